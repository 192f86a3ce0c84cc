import QuellTestSupport
import Foundation
import Synchronization
import Testing
@testable import Quell

/// A user's own typed task, run by an in-process `Worker`, the way an
/// application embeds Quell (issue 15): typed enqueue, progress, cancel,
/// retries with backoff, conflicts, graceful shutdown through `run()`, and two
/// workers in one process.
@Suite("Library: typed tasks in an in-process worker")
struct LibraryWorkerTests {
    /// A paged sync against a fake remote: `pages` pages of `perPage` items,
    /// a checkpoint between pages; `gate` (when set) holds page `holdAt` until opened.
    struct PagedSync: TaskParameters {
        static let taskName = "test.paged-sync"
        static let defaults = TaskDefaults(queue: "syncs", maxAttempts: 2)
        var account: String
        var pages: Int
        var perPage: Int
        var big: Int64
    }

    struct Flaky: TaskParameters {
        static let taskName = "test.flaky"
        static let defaults = TaskDefaults(maxAttempts: 3, retryBackoff: Backoff(base: 2, max: 60))
        var failures: Int
    }

    struct Forever: TaskParameters {
        static let taskName = "test.forever"
    }

    struct Gone: TaskParameters {
        static let taskName = "test.gone"
        static let defaults = TaskDefaults(maxAttempts: 5)
    }

    /// Per-test world: a store, a registry with the tasks, what handlers saw.
    final class World: Sendable {
        let store: JobStore
        let registry = TaskRegistry()
        let seen = Mutex<[String]>([])
        let attempts = Mutex<[Int]>([])
        let pagesDone = Atomic<Int>(0)
        let logs = LogLines()

        init(_ name: String, clock: any QuellClock = SystemClock(), configure: (inout QuellConfiguration) -> Void = { _ in }) {
            var config = QuellConfiguration(redisURL: TestRedis.url, prefix: TestRedis.prefix(name))
            config.heartbeatInterval = 0.2
            configure(&config)
            store = JobStore(redis: TestRedis.client(name), configuration: config, clock: clock)
            registry.register(PagedSync.self) { [self] p, context in
                seen.withLock { $0.append("\(p.account) \(p.big) \(context.headers["traceparent"] ?? "-")") }
                context.progress(stage: "pulling", current: 0, total: p.pages * p.perPage, counters: ["imported": 0])
                for page in 0..<p.pages {
                    try context.checkpoint()
                    try await Task.sleep(for: .milliseconds(5))
                    context.increment("imported", by: p.perPage)
                    context.progress(current: (page + 1) * p.perPage)
                    pagesDone.add(1, ordering: .relaxed)
                }
                return .completed
            }
            registry.register(Flaky.self) { [self] p, context in
                attempts.withLock { $0.append(context.job.attempt) }
                if context.job.attempt <= p.failures { throw FlakyFailure() }
                return .completed
            }
            registry.register(Gone.self) { _, _ in throw PermanentFailure("account deleted upstream") }
            registry.register(Forever.self) { _, context in
                while true {  // runs until told to stop
                    try context.checkpoint()
                    try await Task.sleep(for: .milliseconds(2))
                }
            }
        }

        func worker(_ id: String? = nil, queues: [String] = ["default", "syncs"]) -> Worker {
            Worker(store: store, registry: registry, options: Worker.Options(
                queues: queues, concurrency: 4, id: id, progressInterval: 0.05, logger: QuellLogger { level, message, meta in
                    self.logs.add("\(level) \(message) \(meta.keys.sorted().map { "\($0)=\(meta[$0]!)" }.joined(separator: " "))")
                }))
        }
    }

    struct FlakyFailure: Error, CustomStringConvertible { var description: String { "remote said 503" } }

    @Test func typedEnqueueRunsWithItsParamsHeadersAndProgress() async throws {
        let w = World("lib-typed")
        let worker = w.worker()
        let run = Task { await worker.run() }
        let job = try await w.store.enqueue(PagedSync(account: "acct-7", pages: 4, perPage: 25, big: 9_007_199_254_740_993),
                                            key: "acct-7", tenant: "acme", headers: ["traceparent": "00-abc-def-01"])
        #expect(job.type == "test.paged-sync" && job.queue == "syncs" && job.maxAttempts == 2 && job.key == "acct-7")
        let done = try await w.store.waitForJob(job.id) { $0.status.isTerminal }
        #expect(done.status == .completed && done.attempt == 1)
        #expect(done.progress?.counters["imported"] == 100 && done.progress?.current == 100 && done.progress?.total == 100)
        #expect(done.headers == ["traceparent": "00-abc-def-01"])
        #expect(w.seen.withLock { $0 } == ["acct-7 9007199254740993 00-abc-def-01"])
        // Start and end at info, with the job's metadata.
        try await w.logs.waitFor { $0.hasPrefix("info job finished") && $0.contains("outcome=completed") }
        let lines = w.logs.all
        let started = try #require(lines.first { $0.hasPrefix("info job started") })
        for part in ["job_id=\(job.id)", "job_type=test.paged-sync", "tenant=acme", "key=acct-7", "attempt=1", "worker=\(worker.id)"] {
            #expect(started.contains(part), "\(started)")
        }
        #expect(lines.contains { $0.hasPrefix("info job finished") && $0.contains("duration_seconds=") && $0.contains("job_id=\(job.id)") })
        run.cancel()
        await run.value
    }

    @Test func cancelMidRunKeepsThePartialCounters() async throws {
        let w = World("lib-cancel")
        let worker = w.worker()
        let run = Task { await worker.run() }
        let job = try await w.store.enqueue(PagedSync(account: "a", pages: 100_000, perPage: 10, big: 1))
        while w.pagesDone.load(ordering: .relaxed) < 5 { try await Task.sleep(for: .milliseconds(2)) }
        _ = try await w.store.cancel(id: job.id, tenant: nil)
        let final = try await w.store.waitForJob(job.id) { $0.status.isTerminal }
        #expect(final.status == .cancelled)
        let imported = try #require(final.progress?.counters["imported"])
        #expect(imported >= 50 && imported < 1_000_000 && imported % 10 == 0, "partial work kept: \(imported)")
        #expect(imported == w.pagesDone.load(ordering: .relaxed) * 10, "the counters are what the handler did")
        run.cancel()
        await run.value
    }

    /// Retries wait the task's own backoff: moved by a manual clock, so the
    /// delay is checked exactly, not by sleeping.
    @Test func retriesWithTheTasksBackoffThenCompletes() async throws {
        let clock = ManualClock(Date())
        let w = World("lib-retry", clock: clock)
        let worker = w.worker()
        let run = Task { await worker.run() }
        let job = try await w.store.enqueue(Flaky(failures: 2))
        #expect(job.maxAttempts == 3)
        for attempt in 1...2 {
            // Failed attempt `attempt`: back in `scheduled` for base·2^(attempt-1) with jitter in [½, 1].
            let requeued = try await w.store.waitForJob(job.id) { $0.status == .queued && $0.attempt == attempt }
            #expect(requeued.error == "remote said 503")
            let due = try #require(try await w.store.redis.send(RedisCommand("ZSCORE", w.store.keys.scheduled("default"), job.id)).double)
            let delay = (due - Double(clock.now().milliseconds)) / 1000
            let ceiling = 2 * pow(2, Double(attempt - 1))
            #expect(delay >= ceiling / 2 - 0.001 && delay <= ceiling + 0.001, "attempt \(attempt): delay \(delay)")
            #expect(try await w.store.job(id: job.id, tenant: nil).status == .queued, "not started before it is due")
            clock.advance(by: ceiling + 0.01)
        }
        let final = try await w.store.waitForJob(job.id) { $0.status.isTerminal }
        #expect(final.status == .completed && final.attempt == 3)
        #expect(w.attempts.withLock { $0 } == [1, 2, 3])
        run.cancel()
        await run.value
    }

    @Test func aBusyKeyThrowsAConflictCarryingTheRunningJob() async throws {
        let w = World("lib-conflict")
        let worker = w.worker()
        let run = Task { await worker.run() }
        let first = try await w.store.enqueue(PagedSync(account: "a", pages: 100_000, perPage: 10, big: 1), key: "inbox-1")
        while w.pagesDone.load(ordering: .relaxed) < 3 { try await Task.sleep(for: .milliseconds(2)) }
        _ = try await w.store.waitForJob(first.id) { ($0.progress?.counters["imported"] ?? 0) > 0 }
        do {
            _ = try await w.store.enqueue(PagedSync(account: "a", pages: 1, perPage: 1, big: 1), key: "inbox-1")
            Issue.record("a second sync on a busy key was accepted")
        } catch {
            guard case .conflict(let holder) = error else { Issue.record("got \(error)"); return }
            #expect(holder.id == first.id && holder.status == .running)
            #expect((holder.progress?.counters["imported"] ?? 0) > 0, "the conflict says how far it got")
        }
        // Another key is fine.
        _ = try await w.store.enqueue(PagedSync(account: "b", pages: 1, perPage: 1, big: 1), key: "inbox-2")
        _ = try await w.store.cancel(id: first.id, tenant: nil)
        run.cancel()
        await run.value
    }

    /// Cancelling the task that runs `run()` is a graceful shutdown: fetching
    /// stops, a job still running after the grace is requeued without spending
    /// its attempt, the worker deregisters, and `run()` returns.
    @Test func cancellingRunShutsDownGracefully() async throws {
        let w = World("lib-shutdown") { $0.shutdownGrace = 0.3 }
        let worker = w.worker()
        let run = Task { await worker.run() }
        let job = try await w.store.enqueue(Forever())
        _ = try await w.store.waitForJob(job.id) { $0.status == .running }
        try await w.store.waitForWorkers(1)
        run.cancel()
        await run.value
        let after = try await w.store.job(id: job.id, tenant: nil)
        #expect(after.status == .queued && after.attempt == 0 && after.error?.contains("shutdown") == true)
        #expect(try await w.store.stats(tenant: nil).workers.isEmpty, "deregistered")
        #expect(worker.busy == 0)
    }

    @Test func beginGracefulShutdownEndsRun() async throws {
        let w = World("lib-begin-shutdown")
        let worker = w.worker()
        let run = Task { await worker.run() }
        try await w.store.waitForWorkers(1)
        worker.beginGracefulShutdown()
        worker.beginGracefulShutdown()  // harmless twice
        await run.value
        #expect(try await w.store.stats(tenant: nil).workers.isEmpty)
    }

    /// `run()` shuts down gracefully in its cancelled task: the shutdown's
    /// waits must still sleep there (a `Task.sleep` that throws at once
    /// would turn them into a spin for the whole grace period).
    @Test func shutdownWaitsSleepInACancelledTask() async {
        let waited = Task { () -> Duration in
            withUnsafeCurrentTask { $0?.cancel() }
            #expect(Task.isCancelled)
            let start = ContinuousClock.now
            await Worker.pause(milliseconds: 30)
            return start.duration(to: .now)
        }
        #expect(await waited.value >= .milliseconds(30))
    }

    /// Two workers in one process on the same Redis and prefix: ids,
    /// registrations, processing lists and leases of their own.
    @Test func twoWorkersInOneProcessDoNotInterfere() async throws {
        let w = World("lib-two") { $0.shutdownGrace = 5 }
        let a = w.worker(), b = w.worker()
        #expect(a.id != b.id)
        let runA = Task { await a.run() }
        let runB = Task { await b.run() }
        try await w.store.waitForWorkers(2)
        var ids: [String] = []
        for i in 0..<40 { ids.append(try await w.store.enqueue(PagedSync(account: "acct-\(i)", pages: 3, perPage: 1, big: 1)).id) }
        // Both take part; stopping one does not touch the other's jobs.
        var ranOn = Set<String>()
        for id in ids {
            let job = try await w.store.waitForJob(id) { $0.status.isTerminal }
            #expect(job.status == .completed && job.attempt == 1, "\(id)")
            if let worker = job.worker { ranOn.insert(worker) }
        }
        #expect(ranOn == [a.id, b.id], "both workers ran jobs: \(ranOn)")
        let long = try await w.store.enqueue(Forever())
        let running = try await w.store.waitForJob(long.id) { $0.status == .running }
        let (owner, other) = running.worker == a.id ? (runA, runB) : (runB, runA)
        other.cancel()
        await other.value
        #expect(try await w.store.job(id: long.id, tenant: nil).status == .running, "the other worker's shutdown left it alone")
        #expect(try await w.store.stats(tenant: nil).workers.map(\.id) == [running.worker!])
        _ = try await w.store.cancel(id: long.id, tenant: nil)
        #expect(try await w.store.waitForJob(long.id) { $0.status.isTerminal }.status == .cancelled)
        owner.cancel()
        await owner.value
    }

    @Test func aPermanentFailureFailsAtOnceWithoutRetries() async throws {
        let w = World("lib-permanent")
        let worker = w.worker()
        let run = Task { await worker.run() }
        let job = try await w.store.enqueue(Gone())
        let final = try await w.store.waitForJob(job.id) { $0.status.isTerminal }
        #expect(final.status == .failed && final.attempt == 1 && final.maxAttempts == 5)
        #expect(final.error == "account deleted upstream")
        run.cancel()
        await run.value
    }

    @Test func workerOptionsFromTheSettings() throws {
        let settings = try QuellSettings.read(["QUELL_QUEUES": "mail,bulk", "QUELL_CONCURRENCY": "12"])
        let options = Worker.Options(settings: settings)
        #expect(options.queues == ["mail", "bulk"] && options.concurrency == 12)
    }

    @Test func registeringATypeTwiceIsRefused() throws {
        let registry = TaskRegistry()
        registry.register(Forever.self) { _, _ in .completed }
        #expect(throws: TaskRegistryError.duplicate("test.forever")) {
            try registry.add("test.forever", params: Forever.self, retryBackoff: nil) { _, _ in .completed }
        }
        #expect(registry.types == ["test.forever"])
    }
}
