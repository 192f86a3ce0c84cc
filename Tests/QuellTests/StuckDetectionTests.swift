import QuellTestSupport
import Testing
@testable import Quell

/// Invariant 6 (and 3): stale heartbeats and overdue jobs are closed or
/// requeued by the reaper, and their keys released.
@Suite("Invariant 6: stuck is detected")
struct StuckDetectionTests {
    func registration(_ clock: ManualClock, _ id: String = "w1") -> WorkerRegistration {
        WorkerRegistration(id: id, queues: ["default"], slots: 4, busy: 1, startedAt: clock.now())
    }

    @Test func staleHeartbeatRequeuesUntilAttemptsRunOut() async throws {
        let clock = ManualClock()
        let store = makeStore("stuck-stale", clock: clock, staleAfter: 10)
        let job = try await store.enqueue(EnqueueRequest(type: "t", key: "k", maxAttempts: 2))
        _ = try await store.startJobs()
        clock.advance(by: 9)
        #expect(try await store.reap().isEmpty)  // not stale yet
        clock.advance(by: 2)
        #expect(try await store.reap().map(\.action) == ["requeued"])
        let requeued = try await store.job(id: job.id, tenant: nil)
        #expect(requeued.status == .queued && requeued.error?.contains("lost") == true)
        // The key stays with the job while it is requeued (it has not ended).
        await #expect(throws: QuellError.self) { _ = try await store.enqueue(EnqueueRequest(type: "t", key: "k")) }
        _ = try await store.startJobs()
        clock.advance(by: 11)
        #expect(try await store.reap().map(\.action) == ["failed"])
        let failed = try await store.job(id: job.id, tenant: nil)
        #expect(failed.status == .failed && failed.error?.contains("attempt 2 of 2") == true)
        _ = try await store.enqueue(EnqueueRequest(type: "t", key: "k"))  // key released
    }

    @Test func pastDeadlineIsTimedOutAndKeyReleased() async throws {
        let clock = ManualClock()
        let store = makeStore("stuck-deadline", clock: clock, staleAfter: 10,
                              timeout: TimeoutPolicy(base: 20, perItem: 0, minimum: 1, maximum: 100))
        let job = try await store.enqueue(EnqueueRequest(type: "t", key: "k"))
        let s = try #require(try await store.startJobs().first)
        for _ in 0..<3 {
            clock.advance(by: 9)
            let signals = try await store.heartbeat(registration(clock), jobs: [(job.id, s.lease)])
            #expect(signals == [clock.now() > s.job.deadlineAt! ? .deadline : .ok])
        }
        #expect(try await store.reap().isEmpty)  // past the deadline, within the grace: the worker stops it
        clock.advance(by: 9)                      // 36 s > deadline 20 s + grace 10 s
        #expect(try await store.reap().map(\.action) == ["timed_out"])
        let timedOut = try await store.job(id: job.id, tenant: nil)
        #expect(timedOut.status == .timedOut && timedOut.error?.contains("deadline") == true)
        _ = try await store.enqueue(EnqueueRequest(type: "t", key: "k"))
    }

    @Test func cancellingWithADeadWorkerBecomesCancelled() async throws {
        let clock = ManualClock()
        let store = makeStore("stuck-cancelling", clock: clock, staleAfter: 10)
        let job = try await store.enqueue(EnqueueRequest(type: "t", key: "k"))
        let s = try #require(try await store.startJobs().first)
        _ = try await store.progress([ProgressReport(id: job.id, lease: s.lease, progress: JobProgress(counters: ["synced": 7]))])
        _ = try await store.cancel(id: job.id, tenant: nil)
        clock.advance(by: 11)
        #expect(try await store.reap().map(\.action) == ["cancelled"])
        let cancelled = try await store.job(id: job.id, tenant: nil)
        #expect(cancelled.status == .cancelled && cancelled.progress?.counters == ["synced": 7])
    }

    @Test func deadWorkersClaimsGoBackToTheQueue() async throws {
        let clock = ManualClock()
        let store = makeStore("stuck-claims", clock: clock, staleAfter: 10)
        let job = try await store.enqueue(EnqueueRequest(type: "t"))
        _ = try await store.heartbeat(registration(clock, "dead"), jobs: [])
        _ = try await store.redis.send(RedisCommand("BLMOVE", store.keys.queue("default"), store.keys.processing("dead"), "RIGHT", "LEFT", 1))
        #expect(try await store.startJobs(worker: "other").isEmpty)
        clock.advance(by: 11)
        #expect(try await store.reap().map(\.action) == ["worker_gone"])
        #expect(try await store.startJobs(worker: "other").map(\.job.id) == [job.id])
        #expect(try await store.stats(tenant: nil).workers.isEmpty)
    }

    @Test func cleanupClosesStuckJobsNowAndReportsThem() async throws {
        let clock = ManualClock()
        let store = makeStore("stuck-cleanup", clock: clock, staleAfter: 10,
                              timeout: TimeoutPolicy(base: 5, perItem: 0, minimum: 1, maximum: 100))
        let a = try await store.enqueue(EnqueueRequest(type: "t", maxAttempts: 1))
        let b = try await store.enqueue(EnqueueRequest(type: "t"))
        let started = try await store.startJobs(2)
        clock.advance(by: 6)  // both past their 5 s deadline; heartbeat of `b` is fresh
        _ = try await store.heartbeat(registration(clock), jobs: [(b.id, started[1].lease)])
        #expect(try await store.reap().isEmpty)  // the reaper still gives the grace
        let result = try await store.cleanup()
        #expect(result.cleaned == 2)
        #expect(Set(result.jobs.map(\.id)) == [a.id, b.id])
        #expect(result.jobs.allSatisfy { $0.status == .timedOut })
    }
}
