import QuellTestSupport
import Foundation
import Testing
@testable import Quell

/// Pause and resume through the store's scripts alone (DESIGN.md "Job
/// lifecycle": pausing, paused): every transition, what a paused job keeps
/// and what never touches it. The worker side, with real processes, is in
/// PauseTests.
@Suite("Pause and resume: the scripts")
struct PauseStoreTests {
    @Test func aQueuedJobPausesAtOnceLeavesItsQueueAndResumesToIt() async throws {
        let store = makeStore("pause-queued")
        let job = try await store.enqueue(EnqueueRequest(type: "t", key: "k"))
        let paused = try await store.pause(id: job.id, tenant: nil)
        #expect(paused.status == .paused && paused.pausedAt != nil && paused.attempt == 0 && paused.version == 2)
        #expect(try await store.startJobs(5).isEmpty, "a paused job is not in its queue")
        // Repeating answers the same and changes nothing.
        let again = try await store.pause(id: job.id, tenant: nil)
        #expect(again.status == .paused && again.version == 2)
        // It keeps its key: a new trigger is a conflict carrying the paused job.
        await #expect(throws: QuellError.conflict(paused)) {
            try await store.enqueue(EnqueueRequest(type: "t", key: "k"))
        }
        let resumed = try await store.resume(id: job.id, tenant: nil)
        #expect(resumed.status == .queued && resumed.resumes == 1 && resumed.pausedAt == nil && resumed.version == 3)
        #expect(try await store.resume(id: job.id, tenant: nil).version == 3, "a repeated resume changes nothing")
        let started = try await store.startJobs(5)
        #expect(started.map(\.job.id) == [job.id] && started[0].job.attempt == 1)
        let totals = try await store.stats(tenant: nil)
        #expect(totals.pausesTotal == 1 && totals.resumesTotal == 1 && totals.forcedStopsTotal == 0)
    }

    @Test func aRunningJobPausesAtItsWorkersCheckpointWithItsCursor() async throws {
        let store = makeStore("pause-running")
        let job = try await store.enqueue(EnqueueRequest(type: "t", key: "k", maxAttempts: 1))
        let run = try #require(try await store.startJobs().first)
        let pausing = try await store.pause(id: job.id, tenant: nil)
        #expect(pausing.status == .pausing)
        // Every path back to the worker says "pause"; none writes or turns it back into running.
        let before = try await store.job(id: job.id, tenant: nil).version
        let progressed = try await store.progress([ProgressReport(id: job.id, lease: run.lease,
                                                                  progress: JobProgress(counters: ["synced": 99]), cursor: #"{"n":99}"#)])
        #expect(progressed.map(\.signal) == [.pause])
        let beat = try await store.heartbeat(WorkerRegistration(id: "w1", queues: ["default"], slots: 1, busy: 1, startedAt: Date()),
                                             jobs: [(job.id, run.lease)])
        #expect(beat == [.pause])
        #expect(try await store.retry(id: job.id, lease: run.lease, delay: 0, error: "e", progress: nil, refund: false) == .pause)
        #expect(try await store.job(id: job.id, tenant: nil).version == before, "nothing written while pausing")
        #expect(try await store.confirmPaused(id: job.id, lease: "other", progress: nil, cursor: nil) == .lost)

        let saved = JobProgress(current: 30, total: 100, counters: ["synced": 30])
        #expect(try await store.confirmPaused(id: job.id, lease: run.lease, progress: saved, cursor: #"{"n":30}"#) == .ok)
        let paused = try await store.job(id: job.id, tenant: nil)
        #expect(paused.status == .paused && paused.progress == saved)
        #expect(paused.attempt == 0, "the run stopped by the pause gives its attempt back (max_attempts 1 still allows the next)")
        #expect(paused.worker == nil && paused.heartbeatAt == nil && paused.deadlineAt == nil)
        // The run's lease is gone: its late writes are refused.
        #expect(try await store.finish([FinishReport(id: job.id, lease: run.lease, status: .completed)]) == [.lost])
        #expect(try await store.progress([ProgressReport(id: job.id, lease: run.lease, progress: JobProgress())]).map(\.signal) == [.lost])

        _ = try await store.resume(id: job.id, tenant: nil)
        let next = try #require(try await store.startJobs().first)
        #expect(next.cursor == #"{"n":30}"# && next.job.progress == saved && next.job.attempt == 1 && next.job.resumes == 1,
                "the next run continues from the cursor with the counters saved with it")
    }

    @Test func refusalsAnswerWithTheJob() async throws {
        let store = makeStore("pause-refusals")
        let done = try await store.enqueue(EnqueueRequest(type: "t"))
        let run = try #require(try await store.startJobs().first)
        #expect(try await store.pause(id: done.id, tenant: nil).status == .pausing)
        do {
            _ = try await store.resume(id: done.id, tenant: nil)
            Issue.record("a pausing job resumed")
        } catch {
            guard case .notResumable(let job) = error else { throw error }
            #expect(job.status == .pausing && job.id == done.id)
        }
        _ = try await store.cancel(id: done.id, tenant: nil)
        do {
            _ = try await store.pause(id: done.id, tenant: nil)
            Issue.record("a cancelling job paused")
        } catch {
            guard case .notPausable(let job) = error else { throw error }
            #expect(job.status == .cancelling)
        }
        _ = try await store.confirmCancelled(id: done.id, lease: run.lease, progress: nil)
        for act in [0, 1] {
            do {
                _ = act == 0 ? try await store.pause(id: done.id, tenant: nil) : try await store.resume(id: done.id, tenant: nil)
                Issue.record("a cancelled job was paused or resumed")
            } catch {
                switch error {
                case .notPausable(let job), .notResumable(let job): #expect(job.status == .cancelled)
                default: throw error
                }
            }
        }
        // Another tenant's job is not found, as for every other call.
        let acme = try await store.enqueue(EnqueueRequest(type: "t", tenant: "acme"))
        await #expect(throws: QuellError.notFound(acme.id)) { try await store.pause(id: acme.id, tenant: "globex") }
        await #expect(throws: QuellError.notFound(acme.id)) { try await store.resume(id: acme.id, tenant: "globex") }
        await #expect(throws: QuellError.notFound("nope")) { try await store.pause(id: "nope", tenant: nil) }
        #expect(try await store.pause(id: acme.id, tenant: "acme").status == .paused)
    }

    @Test func aPausedJobIsNeverReapedCleanedUpOrExpiredAndCancelsAtOnce() async throws {
        let clock = ManualClock()
        let store = makeStore("pause-untouched", clock: clock, staleAfter: 10)
        let job = try await store.enqueue(EnqueueRequest(type: "t", key: "k"))
        let run = try #require(try await store.startJobs().first)
        _ = try await store.pause(id: job.id, tenant: nil)
        #expect(try await store.confirmPaused(id: job.id, lease: run.lease, progress: nil, cursor: nil) == .ok)
        let paused = try await store.job(id: job.id, tenant: nil)
        clock.advance(by: 30 * 86_400)  // past any heartbeat, deadline and retention
        #expect(try await store.reap().isEmpty)
        #expect(try await store.cleanup().cleaned == 0)
        #expect(try await store.expireFinished() == 0)
        #expect(try await store.job(id: job.id, tenant: nil) == paused)
        await #expect(throws: QuellError.conflict(paused)) {
            try await store.enqueue(EnqueueRequest(type: "t", key: "k"))
        }
        let counts = try await store.stats(tenant: nil).counts
        #expect(counts[.paused] == 1 && counts[.pausing] == 0)
        // Cancel of a paused job: cancelled at once, key released.
        let cancelled = try await store.cancel(id: job.id, tenant: nil)
        #expect(cancelled.status == .cancelled && cancelled.version == paused.version + 1)
        #expect(try await store.enqueue(EnqueueRequest(type: "t", key: "k")).status == .queued)
    }

    /// A pausing job whose worker is gone is parked by the reaper (from the
    /// cursor and counters last written) and still holds its key; a stuck
    /// pausing holder met by a new trigger is parked too, and answers the conflict.
    @Test func aPausingJobWithADeadWorkerIsParkedNotLost() async throws {
        let clock = ManualClock()
        let store = makeStore("pause-dead-worker", clock: clock, staleAfter: 10)
        let a = try await store.enqueue(EnqueueRequest(type: "t", key: "a"))
        let b = try await store.enqueue(EnqueueRequest(type: "t", key: "b"))
        let runs = try await store.startJobs(2)
        #expect(runs.count == 2)
        _ = try await store.progress(runs.map {
            ProgressReport(id: $0.job.id, lease: $0.lease, progress: JobProgress(counters: ["synced": 10]), cursor: #"{"n":10}"#)
        })
        _ = try await store.pause(id: a.id, tenant: nil)
        _ = try await store.pause(id: b.id, tenant: nil)
        clock.advance(by: 11)
        #expect(try await store.reap(ownJobs: [b.id]).map(\.action) == ["paused"])
        #expect(try await store.job(id: a.id, tenant: nil).status == .paused)
        do {
            _ = try await store.enqueue(EnqueueRequest(type: "t", key: "b"))
            Issue.record("a stuck pausing holder gave its key away")
        } catch {
            guard case .conflict(let holder) = error else { throw error }
            #expect(holder.id == b.id && holder.status == .paused)
        }
        _ = try await store.resume(id: a.id, tenant: nil)
        let next = try #require(try await store.startJobs().first)
        #expect(next.job.id == a.id && next.cursor == #"{"n":10}"# && next.job.progress?.counters["synced"] == 10)
    }

    /// The hard stop's script: cancelling → cancelled (reason forced, key
    /// released), running → timed_out (reason forced), pausing → paused; a
    /// late write of the abandoned run is refused.
    @Test func abandonClosesWithReasonForced() async throws {
        let store = makeStore("pause-abandon")
        var jobs: [Job] = []
        for key in ["c", "t", "p"] { jobs.append(try await store.enqueue(EnqueueRequest(type: "t", key: key))) }
        let runs = Dictionary(uniqueKeysWithValues: try await store.startJobs(3).map { ($0.job.id, $0) })
        let (c, t, p) = (jobs[0], jobs[1], jobs[2])
        _ = try await store.cancel(id: c.id, tenant: nil, reason: "operator")
        _ = try await store.pause(id: p.id, tenant: nil)
        #expect(try await store.abandon(id: c.id, lease: "stale", progress: nil, cursor: nil) == nil)
        #expect(try await store.abandon(id: c.id, lease: runs[c.id]!.lease, progress: nil, cursor: nil) == .cancelled)
        #expect(try await store.abandon(id: t.id, lease: runs[t.id]!.lease, progress: nil, cursor: nil) == .timedOut)
        #expect(try await store.abandon(id: p.id, lease: runs[p.id]!.lease, progress: nil, cursor: #"{"n":1}"#) == .paused)
        #expect(try await store.abandon(id: c.id, lease: runs[c.id]!.lease, progress: nil, cursor: nil) == nil, "once")
        let cancelled = try await store.job(id: c.id, tenant: nil)
        #expect(cancelled.status == .cancelled && cancelled.cancel?.reason == "forced")
        #expect(cancelled.error?.contains("operator") == true, "\(cancelled.error ?? "")")
        let timedOut = try await store.job(id: t.id, tenant: nil)
        #expect(timedOut.status == .timedOut && timedOut.cancel?.reason == "forced")
        #expect(try await store.job(id: p.id, tenant: nil).status == .paused)
        #expect(try await store.finish([FinishReport(id: c.id, lease: runs[c.id]!.lease, status: .completed)]) == [.terminal])
        #expect(try await store.confirmCancelled(id: c.id, lease: runs[c.id]!.lease, progress: nil) == .terminal)
        #expect(try await store.confirmPaused(id: p.id, lease: runs[p.id]!.lease, progress: nil, cursor: nil) == .lost)
        #expect(try await store.enqueue(EnqueueRequest(type: "t", key: "c")).status == .queued, "key released")
        #expect(try await store.enqueue(EnqueueRequest(type: "t", key: "t")).status == .queued, "key released")
        #expect(try await store.stats(tenant: nil).forcedStopsTotal == 3)
    }
}
