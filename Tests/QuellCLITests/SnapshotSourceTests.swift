import QuellTestSupport
import Foundation
import Testing
@testable import Quell
@testable import QuellCLI

/// The monitor's snapshot source against a live Redis, with jobs driven
/// through JobStore calls (enqueue, start, progress, heartbeat, finish,
/// cancel) as a worker would.
@Suite struct SnapshotSourceTests {
    private let progress = JobProgress(stage: "processing_files", percent: 45.2, current: 9, total: 20,
                                       counters: ["synced": 8, "failed": 1, "attachments": 3])

    private func registration(_ id: String, busy: Int, startedAt: Date) -> WorkerRegistration {
        WorkerRegistration(id: id, queues: ["default"], slots: 4, busy: busy, startedAt: startedAt)
    }

    /// BUSY counts the jobs running on a worker now, not the registration's
    /// count from its last heartbeat (which said 0/4 while three jobs ran).
    @Test func busySlotsComeFromTheRunningJobsNotTheLastHeartbeat() async throws {
        let clock = ManualClock(Date())
        let store = makeStore("snap-busy", clock: clock)
        _ = try await store.heartbeat(registration("w1", busy: 0, startedAt: clock.now()), jobs: [])
        for _ in 0..<3 { _ = try await store.enqueue(EnqueueRequest(type: "demo.sleep")) }
        _ = try await store.startJobs(3, worker: "w1")
        let snapshot = try await SnapshotSource.once(store: store, settings: .init(staleAfter: 10))
        #expect(snapshot.workers.map(\.id) == ["w1"])
        #expect(snapshot.workers.first?.busy == 3 && snapshot.workers.first?.slots == 4)
    }

    @Test func onceShowsCountsQueuesWorkersRunningJobsAndEvents() async throws {
        let clock = ManualClock(Date())
        let store = makeStore("snap-once", clock: clock)
        let first = try await store.enqueue(EnqueueRequest(type: "demo.sync", tenant: "acme", key: "kb-42"))
        let second = try await store.enqueue(EnqueueRequest(type: "demo.sleep", tenant: "globex"))
        let waiting = try await store.enqueue(EnqueueRequest(type: "demo.noop", tenant: "acme", queue: "mail"))
        let started = try await store.startJobs(2, worker: "w1")
        #expect(started.map(\.job.id) == [first.id, second.id])
        _ = try await store.progress([ProgressReport(id: first.id, lease: started[0].lease, progress: progress)])
        _ = try await store.heartbeat(registration("w1", busy: 2, startedAt: clock.now().addingTimeInterval(-100)),
                                      jobs: started.map { ($0.job.id, $0.lease) })
        _ = try await store.cancel(id: second.id, tenant: nil)
        // A worker that last beat 30 s ago.
        let past = store.withClock(ManualClock(clock.now().addingTimeInterval(-30)))
        _ = try await past.heartbeat(registration("w0-old", busy: 0, startedAt: clock.now().addingTimeInterval(-60)), jobs: [])
        clock.advance(by: 2)

        let snapshot = try await SnapshotSource.once(store: store, settings: .init(staleAfter: 10))
        #expect(snapshot.takenAt == clock.now())
        #expect(snapshot.counts == .init(queued: 1, running: 1, cancelling: 1))
        #expect(snapshot.queues.map(\.name) == ["default", "mail"])
        #expect(snapshot.queues.map(\.depth) == [0, 1])
        // Two starts from `default` in the last 10 s of the stream.
        #expect(snapshot.queues.map(\.ratePerSecond) == [0.2, 0])

        #expect(snapshot.workers.map(\.id) == ["w0-old", "w1"])
        #expect(snapshot.workers.map(\.stale) == [true, false])
        let w1 = snapshot.workers[1]
        #expect(w1.busy == 2 && w1.slots == 4 && w1.queues == ["default"])
        #expect(abs(w1.heartbeatAgeSeconds - 2) < 0.01 && abs(snapshot.workers[0].heartbeatAgeSeconds - 32) < 0.01)

        #expect(snapshot.running.map(\.id) == [first.id, second.id])
        let job = snapshot.running[0]
        #expect(job.status == .running && job.type == "demo.sync" && job.tenant == "acme" && job.key == "kb-42")
        #expect(job.stage == "processing_files" && job.current == 9 && job.total == 20 && job.percent == 45.2)
        #expect(job.counters == [.init("synced", 8), .init("failed", 1), .init("attachments", 3)])
        #expect(abs(job.elapsedSeconds - 2) < 0.01 && abs(job.heartbeatAgeSeconds - 2) < 0.01 && !job.stale)
        #expect(job.expectedDurationSeconds == 500)
        #expect(snapshot.running[1].status == .cancelling)

        // Newest first: the cancel, the progress, two starts, three enqueues.
        #expect(snapshot.events.map(\.status) == [.cancelling, .running, .running, .running, .queued, .queued, .queued])
        #expect(snapshot.events.map(\.text).prefix(3) == [
            "cancel requested (user)", "processing_files 45% 9/20 (synced 8, failed 1, attachments 3)",
            "started on w1 (attempt 1/3)",
        ])
        #expect(snapshot.events.last?.jobId == first.id && snapshot.events.last?.text == "enqueued (key kb-42)")
        #expect(snapshot.events[0].jobId == second.id && snapshot.events[0].version == 3)
        _ = waiting

        // It renders and round-trips as JSON.
        let plain = MonitorRenderer.plain(snapshot)
        #expect(plain.contains("RUNNING (2)") && plain.contains(first.id) && plain.contains("w0-old"))
        let decoded = try MonitorSnapshot.fromJSON(snapshot.jsonData())  // dates to the second
        #expect(decoded.running.map(\.id) == snapshot.running.map(\.id) && decoded.counts == snapshot.counts)
    }

    @Test func liveFollowsEventsWithOneCallPerFrame() async throws {
        // A Redis of its own: another suite's SCRIPT FLUSH would add reloads to the count.
        let server = try await RedisServerProcess.startPrivate()
        do {
            try await followEvents(server)
        } catch {
            await server.stopPrivate()
            throw error
        }
        await server.stopPrivate()
    }

    private func followEvents(_ server: RedisServerProcess) async throws {
        let clock = ManualClock(Date())
        let configuration = QuellConfiguration(redisURL: server.url, prefix: TestRedis.prefix("snap-live"))
        let writer = JobStore(redis: RedisClient(url: server.url), configuration: configuration, clock: clock)
        // The source reads through a client of its own, so its calls can be counted.
        let reader = JobStore(redis: RedisClient(url: server.url), configuration: configuration, clock: clock)
        let source = SnapshotSource(store: reader, settings: .init(staleAfter: 10))
        let job = try await writer.enqueue(EnqueueRequest(type: "demo.sync", tenant: "acme"))
        var snapshot = try await source.start()
        #expect(snapshot.running.isEmpty && snapshot.counts.queued == 1)
        #expect(snapshot.events.map(\.jobId) == [job.id])
        #expect(snapshot.queues.first?.ratePerSecond == nil)  // not yet measured

        let started = try #require(try await writer.startJobs().first)
        _ = try await writer.progress([ProgressReport(id: job.id, lease: started.lease, progress: progress)])
        var before = reader.redis.statistics.commands
        snapshot = try await source.next()
        // No stats due: one XRANGE, and the running job comes from its events.
        #expect(reader.redis.statistics.commands - before == 1)
        #expect(snapshot.running.map(\.id) == [job.id])
        #expect(snapshot.running.first?.current == 9 && snapshot.running.first?.stage == "processing_files")
        #expect(snapshot.events.map(\.text).prefix(2) == ["processing_files 45% 9/20 (synced 8, failed 1, attachments 3)",
                                                          "started on w1 (attempt 1/3)"])
        before = reader.redis.statistics.commands
        snapshot = try await source.next()
        #expect(reader.redis.statistics.commands - before == 1)

        // A second later: XRANGE, the stats script, one HMGET per running job (one round trip).
        clock.advance(by: 1)
        before = reader.redis.statistics.commands
        let trips = reader.redis.statistics.roundTrips
        snapshot = try await source.next()
        #expect(reader.redis.statistics.commands - before == 3)
        #expect(reader.redis.statistics.roundTrips - trips == 3)
        #expect(snapshot.counts.running == 1 && snapshot.counts.queued == 0)
        #expect(snapshot.queues.first?.ratePerSecond == 1)  // one start in the one second followed

        _ = try await writer.finish([FinishReport(id: job.id, lease: started.lease, status: .completed, progress: progress)])
        snapshot = try await source.next()
        #expect(snapshot.running.isEmpty)
        #expect(snapshot.events.first?.status == .completed)
        #expect(snapshot.events.first?.text == "synced 8, failed 1, attachments 3")
        #expect(await source.reloads == 1)  // only the one at start
    }

    @Test func heartbeatsAreRefreshedWithoutEvents() async throws {
        let clock = ManualClock(Date())
        let store = makeStore("snap-beat", clock: clock)
        _ = try await store.enqueue(EnqueueRequest(type: "demo.sleep"))
        let started = try #require(try await store.startJobs().first)
        let source = SnapshotSource(store: store, settings: .init(staleAfter: 10))
        _ = try await source.start()
        clock.advance(by: 12)
        var snapshot = try await source.next()
        #expect(snapshot.running.first?.stale == true)
        #expect(abs((snapshot.running.first?.heartbeatAgeSeconds ?? 0) - 12) < 0.01)
        // A heartbeat writes no event; the next stats refresh picks it up.
        _ = try await store.heartbeat(registration("w1", busy: 1, startedAt: clock.now()), jobs: [(started.job.id, started.lease)])
        clock.advance(by: 1)
        snapshot = try await source.next()
        #expect(snapshot.running.first?.stale == false)
        #expect(abs((snapshot.running.first?.heartbeatAgeSeconds ?? 0) - 1) < 0.01)
        #expect(abs((snapshot.running.first?.elapsedSeconds ?? 0) - 13) < 0.01)
        #expect(snapshot.workers.map(\.id) == ["w1"] && snapshot.workers.first?.stale == false)
    }

    @Test func aMissedEventIsRepairedFromTheCounts() async throws {
        let clock = ManualClock(Date())
        let store = makeStore("snap-missed", clock: clock)
        let source = SnapshotSource(store: store, settings: .init(staleAfter: 10))
        _ = try await source.start()
        _ = try await store.enqueue(EnqueueRequest(type: "demo.sync"))
        let started = try #require(try await store.startJobs().first)
        // The events are lost (as if trimmed from the stream before the monitor read them).
        try await store.redis.send(RedisCommand("DEL", store.keys.events))
        clock.advance(by: 5)
        let snapshot = try await source.next()
        #expect(snapshot.running.map(\.id) == [started.job.id])
        #expect(await source.reloads == 2)
    }

    @Test func farBehindSkipsAheadInsteadOfReplaying() async throws {
        let store = makeStore("snap-behind")
        var settings = SnapshotSource.Settings(staleAfter: 10)
        settings.pageSize = 2
        settings.maxPagesPerPoll = 2
        let source = SnapshotSource(store: store, settings: settings)
        _ = try await source.start()
        for _ in 0..<10 { _ = try await store.enqueue(EnqueueRequest(type: "demo.noop")) }
        _ = try #require(try await store.startJobs(3).count == 3)
        let before = store.redis.statistics.commands
        let snapshot = try await source.next()
        // Two pages of two, then a jump to the newest event and a re-read.
        #expect(await source.cursor == (try await store.lastEventID()))
        #expect(await source.reloads == 2)
        #expect(snapshot.running.count == 3)
        #expect(snapshot.events.count == 4)
        #expect(store.redis.statistics.commands - before < 20)
    }

    @Test func eventTexts() throws {
        func job(_ fields: [String: String]) throws -> Job {
            var base = ["id": "01JABCDEFGHJKMNPQRSTVWXYZ0", "type": "demo.sync", "queue": "default", "tenant": "acme",
                        "status": "queued", "attempt": "1", "max_attempts": "3", "version": "2", "created_at": "1000"]
            base.merge(fields) { $1 }
            return try Job(fields: base)
        }
        #expect(SnapshotSource.eventText(try job(["version": "1"])) == "enqueued")
        #expect(SnapshotSource.eventText(try job(["error": "worker w1 lost"])) == "requeued: worker w1 lost")
        #expect(SnapshotSource.eventText(try job(["status": "running", "worker": "h:1"])) == "started on h:1 (attempt 1/3)")
        #expect(SnapshotSource.eventText(try job(["status": "running", "progress": #"{"stage":"listing"}"#])) == "listing")
        #expect(SnapshotSource.eventText(try job(["status": "cancelled", "cancel_at": "2000", "cancel_reason": "user",
                                                  "progress": #"{"counters":{"synced":4}}"#])) == "by user; synced 4")
        #expect(SnapshotSource.eventText(try job(["status": "timed_out", "error": "deadline exceeded (300s allowed)"]))
            == "deadline exceeded (300s allowed)")
        #expect(SnapshotSource.eventText(try job(["status": "completed"])) == "done")
        #expect(SnapshotSource.streamTime("1732412345678-3") == Date(timeIntervalSince1970: 1_732_412_345.678))
    }
}
