import QuellTestSupport
import Foundation
import Synchronization
import Testing
@testable import Quell

/// Redis restarting or unreachable is an outage, never a verdict (DESIGN.md
/// "Reliability pieces", invariant 6): transient refusals are retried, and no
/// stuck verdict is given within one stale window of a reconnect or restart.
@Suite("Outages are not verdicts")
struct OutageTests {
    @Test func transientReplyCodesCountAsUnavailable() {
        for code in ["LOADING Redis is loading the dataset in memory", "BUSY Redis is busy running a script.",
                     "MASTERDOWN Link with MASTER is down", "TRYAGAIN Multiple keys request during rehashing",
                     "CLUSTERDOWN The cluster is down", "READONLY You can't write against a read only replica."] {
            #expect(RedisError.server(code).isUnavailable, "\(code)")
        }
        for code in ["ERR unknown command", "WRONGTYPE Operation against a key", "NOSCRIPT No matching script",
                     "ERR Error running script: BUSY inside a message"] {
            #expect(!RedisError.server(code).isUnavailable, "\(code)")
        }
    }

    /// A handler completes while Redis refuses everything with BUSY: the
    /// outcome is retried until it lands, on the first attempt (before, it was
    /// dropped with "finish 1 jobs failed" and the job later ran again).
    @Test func anOutcomeRefusedWithBusyIsRetriedUntilItLands() async throws {
        let server = try await RedisServerProcess.startPrivate()
        var config = QuellConfiguration(redisURL: server.url, prefix: TestRedis.prefix("busy-outcome"))
        config.heartbeatInterval = 0.2
        let store = JobStore(redis: RedisClient(url: server.url, options: RedisOptions(connectTimeout: 1, commandTimeout: 5)),
                             configuration: config)
        let gate = Gate()
        let registry = TaskRegistry()
        registry.register("test.gated", params: EmptyParams.self) { _, _ in
            await gate.wait()
            return .completed
        }
        let lines = LogLines()
        let worker = Worker(store: store, registry: registry,
                            options: Worker.Options(id: "busy-worker", cancelPush: false, runReaper: false,
                                                    logger: QuellLogger { _, message, meta in lines.add(message + " " + meta.description) }))
        worker.start()
        let job = try await store.enqueue(EnqueueRequest(type: "test.gated"))
        _ = try await store.waitForJob(job.id) { $0.status == .running }

        let busy = try await BusyRedis.hold(server)
        gate.open()
        // The outcome was tried and refused (condition, not a delay).
        try await lines.waitFor { $0.contains("finish 1 jobs") && $0.contains("BUSY") }
        // The handler is done, but the worker holds the job until its outcome lands.
        #expect(worker.busy == 0 && worker.heldJobIDs == [job.id])
        try await busy.release()
        let final = try await store.waitForJob(job.id, 30) { $0.status.isTerminal }
        try await waitUntil { worker.heldJobIDs.isEmpty }
        #expect(final.status == .completed && final.attempt == 1, "\(lines.all)")
        #expect(!lines.all.contains { $0.contains("failed:") && $0.contains("finish") }, "\(lines.all)")
        await worker.shutdown(grace: 1)
        store.close()
        await server.stopPrivate()
    }

    /// The scenario seen from outside: Redis away a little less than
    /// stale-after; the first call after it returned was a reaper, which
    /// closed a live worker's job as lost. Now a reconnect records a resume
    /// and verdicts wait one stale window, which the live worker's next beat
    /// falls into.
    @Test func noVerdictRightAfterAProcessRegainsRedis() async throws {
        let clock = ManualClock()
        let store = makeStore("outage-reconnect", clock: clock, staleAfter: 10)
        let admin = TestRedis.client("outage-admin")
        let job = try await store.enqueue(EnqueueRequest(type: "t", key: "k", maxAttempts: 3))
        let started = try #require(try await store.startJobs().first)
        clock.advance(by: 11)  // the heartbeat is 11 s old

        try await dropConnection(of: store, admin: admin)
        #expect(try await store.reap().isEmpty, "held: this process just regained Redis")
        await #expect(throws: QuellError.self, "the stuck-looking holder keeps its key while held") {
            _ = try await store.enqueue(EnqueueRequest(type: "t", key: "k"))
        }
        #expect(try await store.cleanup().cleaned == 0)
        // The live worker beats within the window: its job is never judged.
        clock.advance(by: 2)
        let reg = WorkerRegistration(id: "w1", queues: ["default"], slots: 4, busy: 1, startedAt: clock.now())
        #expect(try await store.heartbeat(reg, jobs: [(job.id, started.lease)]) == [.ok])
        clock.advance(by: 9)  // the window is over; the heartbeat is 9 s old: fine
        #expect(try await store.reap().isEmpty)
        #expect(try await store.job(id: job.id, tenant: nil).status == .running)
        // A worker that really is gone is judged once the window is over.
        clock.advance(by: 2)
        let r = try await store.reap()
        let dbg = try await store.redis.send(RedisCommand("HGETALL", store.keys.base + ":liveness"))
        let act = try await store.redis.send(RedisCommand("ZRANGE", store.keys.active, 0, -1, "WITHSCORES"))
        #expect(r.filter { $0.action != "worker_gone" }.map(\.action) == ["requeued"], "\(r) \(dbg) \(act) now \(clock.now().milliseconds)")
        admin.close()
    }

    /// A process that connects for the first time to a Redis that restarted
    /// (its run_id changed) holds verdicts too: it cannot know how long the
    /// restart kept everyone from beating.
    @Test func noVerdictRightAfterRedisRestarted() async throws {
        let server = try await RedisServerProcess.startPrivate()
        try await onOwnThread {
            let c = try RedisConnection(url: server.url)
            _ = try c.send(RedisCommand("CONFIG", "SET", "appendonly", "yes"))
            _ = try c.send(RedisCommand("CONFIG", "SET", "appendfsync", "always"))
        }
        let clock = ManualClock()
        var config = QuellConfiguration(redisURL: server.url, prefix: TestRedis.prefix("outage-restart"))
        config.staleAfter = 10
        let before = JobStore(redis: RedisClient(url: server.url), configuration: config, clock: clock)
        let job = try await before.enqueue(EnqueueRequest(type: "t", maxAttempts: 3))
        _ = try await before.start(worker: "w1", leasePrefix: "w1/", queues: ["default"], count: 1)
        clock.advance(by: 11)
        before.close()
        // Restart from the append-only file (BGREWRITEAOF done: wait for it to be written).
        try await onOwnThread {
            let c = try RedisConnection(url: server.url)
            let end = Date().addingTimeInterval(60)
            while Date() < end {
                let info = try c.send(RedisCommand("INFO", "persistence")).string ?? ""
                if info.contains("aof_rewrite_in_progress:0") && info.contains("aof_enabled:1") { return }
                usleep(10_000)
            }
        }
        try await onOwnThread {
            server.stop()
            try server.start(extraArguments: ["--appendonly", "yes"])
        }
        let after = JobStore(redis: RedisClient(url: server.url), configuration: config, clock: clock)
        #expect(try await after.job(id: job.id, tenant: nil).status == .running, "the job survived the restart")
        let dbg = try await after.redis.send(RedisCommand("HGETALL", after.keys.base + ":liveness"))
        #expect(try await after.reap().isEmpty, "held: Redis restarted just now \(dbg) \(clock.now().milliseconds)")
        clock.advance(by: 11)
        #expect(try await after.reap().map(\.action) == ["requeued"])
        after.close()
        await server.stopPrivate()
    }

    @Test func aReaperNeverJudgesTheJobsItsOwnProcessRuns() async throws {
        let clock = ManualClock()
        let store = makeStore("outage-own", clock: clock, staleAfter: 10)
        let mine = try await store.enqueue(EnqueueRequest(type: "t"))
        let theirs = try await store.enqueue(EnqueueRequest(type: "t"))
        _ = try await store.startJobs(2)
        clock.advance(by: 11)
        let reaped = try await store.reap(ownJobs: [mine.id])
        #expect(reaped.map(\.id) == [theirs.id])
        #expect(try await store.job(id: mine.id, tenant: nil).status == .running)
        #expect(try await store.reap().map(\.id) == [mine.id], "another process's reaper does judge it")
    }

    /// Kills this store's connection from the server side and waits until
    /// the store has connected again.
    private func dropConnection(of store: JobStore, admin: RedisClient) async throws {
        let id = try #require(try await store.redis.send(RedisCommand("CLIENT", "ID")).int)
        try await admin.send(RedisCommand("CLIENT", "KILL", "ID", id))
        let connects = store.redis.statistics.connects
        while store.redis.statistics.connects == connects {
            _ = try? await store.redis.send(RedisCommand("PING"))
        }
    }
}

struct EmptyParams: Codable, Sendable {}

/// A one-shot gate a handler waits on until the test opens it.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
    func wait() async {
        await withCheckedContinuation { c in
            let now = state.withLock { s -> Bool in
                if s.open { return true }
                s.waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }
    func open() {
        for c in state.withLock({ s -> [CheckedContinuation<Void, Never>] in
            s.open = true
            defer { s.waiters = [] }
            return s.waiters
        }) { c.resume() }
    }
}

/// A worker's log lines, for tests that wait for something to be logged.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    var append: @Sendable (String) -> Void { { line in self.add(line) } }
    func add(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
    func waitFor(_ seconds: Double = 30, _ match: @Sendable (String) -> Bool) async throws {
        let end = Date().addingTimeInterval(seconds)
        while !all.contains(where: match) {
            if Date() > end { throw QuellError.invalid("no such log line after \(seconds)s: \(all)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
