import QuellTestSupport
import Testing
@testable import Quell

/// Invariant 1: once terminal, nothing changes a job's status again; a
/// progress write never turns cancelling back into running.
@Suite("Invariant 1: terminal is final")
struct TerminalIsFinalTests {
    @Test func nothingMovesATerminalJob() async throws {
        let clock = ManualClock()
        let store = makeStore("final", clock: clock, staleAfter: 2)
        let job = try await store.enqueue(EnqueueRequest(type: "t", key: "k"))
        let s = try #require(try await store.startJobs().first)
        #expect(try await store.finish([FinishReport(id: job.id, lease: s.lease, status: .completed)]) == [.ok])
        let done = try await store.job(id: job.id, tenant: nil)

        #expect(try await store.finish([FinishReport(id: job.id, lease: s.lease, status: .failed)]) == [.terminal])
        #expect(try await store.progress([ProgressReport(id: job.id, lease: s.lease, progress: JobProgress(current: 1))]).first?.signal == .lost)
        #expect(try await store.heartbeat(WorkerRegistration(id: "w1", queues: ["default"], slots: 1, busy: 1, startedAt: clock.now()),
                                          jobs: [(job.id, s.lease)]) == [.lost])
        #expect(try await store.retry(id: job.id, lease: s.lease, delay: 0, error: "x", progress: nil, refund: false) == .terminal)
        #expect(try await store.confirmCancelled(id: job.id, lease: s.lease, progress: nil) == .terminal)
        await #expect(throws: QuellError.notCancellable(done)) { try await store.cancel(id: job.id, tenant: nil) }
        clock.advance(by: 100)
        _ = try await store.reap()
        _ = try await store.cleanup()
        #expect(try await store.job(id: job.id, tenant: nil) == done)
    }

    @Test func progressNeverTurnsCancellingBackIntoRunning() async throws {
        let store = makeStore("final-cancel")
        let job = try await store.enqueue(EnqueueRequest(type: "t"))
        let s = try #require(try await store.startJobs().first)
        let cancelling = try await store.cancel(id: job.id, tenant: nil)
        #expect(cancelling.status == .cancelling)
        let answer = try await store.progress([ProgressReport(id: job.id, lease: s.lease, progress: JobProgress(current: 5, counters: ["synced": 5]))])
        #expect(answer.first?.signal == .cancel)
        #expect(try await store.job(id: job.id, tenant: nil) == cancelling)
        // A retry of a job being cancelled is refused: the worker confirms instead.
        #expect(try await store.retry(id: job.id, lease: s.lease, delay: 0, error: "x", progress: nil, refund: true) == .cancel)
        #expect(try await store.confirmCancelled(id: job.id, lease: s.lease, progress: JobProgress(current: 5, counters: ["synced": 5])) == .ok)
        let cancelled = try await store.job(id: job.id, tenant: nil)
        #expect(cancelled.status == .cancelled && cancelled.progress?.counters == ["synced": 5])
        #expect(try await store.cancel(id: job.id, tenant: nil) == cancelled)  // repeating answers the same
    }

    @Test func handlerThatNeverSawTheCancelEndsCompleted() async throws {
        let store = makeStore("final-unseen")
        let job = try await store.enqueue(EnqueueRequest(type: "t"))
        let s = try #require(try await store.startJobs().first)
        _ = try await store.cancel(id: job.id, tenant: nil, reason: "user")
        #expect(try await store.finish([FinishReport(id: job.id, lease: s.lease, status: .completed)]) == [.ok])
        let final = try await store.job(id: job.id, tenant: nil)
        #expect(final.status == .completed && final.cancel?.reason == "user")
    }

    @Test func aStaleRunCannotWriteAfterItWasRequeued() async throws {
        let clock = ManualClock()
        let store = makeStore("final-lease", clock: clock, staleAfter: 2)
        let job = try await store.enqueue(EnqueueRequest(type: "t"))
        let first = try #require(try await store.startJobs(worker: "old").first)
        clock.advance(by: 3)
        #expect(try await store.reap().map(\.action) == ["requeued"])
        let second = try #require(try await store.startJobs(worker: "new").first)
        #expect(second.job.attempt == 2)
        // The first run wakes up: every write it tries is refused as lost.
        #expect(try await store.finish([FinishReport(id: job.id, lease: first.lease, status: .completed)]) == [.lost])
        #expect(try await store.progress([ProgressReport(id: job.id, lease: first.lease, progress: JobProgress())]).first?.signal == .lost)
        #expect(try await store.job(id: job.id, tenant: nil).worker == "new")
    }
}
