import Foundation
import QuellTestSupport
import Testing
@testable import Quell

/// A finish that hands back the worker's copy of the job (`FinishReport.startedAs`)
/// writes the same job and the same event as one that does not: Redis builds the
/// event from the copy only while the job is unchanged since it started, and reads
/// the job whole otherwise.
@Suite struct FinishFromCopyTests {
    /// The job's last event is the job as stored now (less params), at its version.
    private func expectLastEventIsTheJob(_ store: JobStore, _ id: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        var stored = try await store.job(id: id, tenant: nil)
        stored.params = nil
        let last = try #require(try await store.allEvents(of: id).last, sourceLocation: sourceLocation)
        #expect(last.job == stored, sourceLocation: sourceLocation)
    }

    @Test func aJobUnchangedSinceItStartedEndsTheSameWithOrWithoutTheCopy() async throws {
        let store = makeStore("copy-same")
        let headers = ["trace": "abc"]
        var ids: [String] = []
        for key in ["a", "b"] {
            var request = EnqueueRequest(type: "t", params: .object(["n": .number(1)]), key: key, timeout: 7.5)
            request.headers = headers
            ids.append(try await store.enqueue(request).id)
        }
        let started = try await store.startJobs(2)
        #expect(started.allSatisfy { $0.packed != nil })
        let progress = JobProgress(stage: "done", current: 3, counters: ["synced": 3])
        let error = "2 items\u{1F} skipped\nsee log"
        let answers = try await store.finish(started.enumerated().map { i, s in
            FinishReport(id: s.job.id, lease: s.lease, status: .completedWithErrors, error: error, progress: progress,
                         startedAs: i == 0 ? s.packed : nil)
        })
        #expect(answers == [.ok, .ok])
        for id in ids {
            let job = try await store.job(id: id, tenant: nil)
            #expect(job.status == .completedWithErrors && job.error == "2 items  skipped\nsee log")
            #expect(job.progress == progress && job.key != nil && job.headers == headers && job.timeoutSeconds == 7.5)
            #expect(job.version == 3 && job.completedAt != nil)
            try await expectLastEventIsTheJob(store, job.id)
        }
        // Both keys are released: each can be taken again.
        for key in ["a", "b"] { _ = try await store.enqueue(EnqueueRequest(type: "t", key: key)) }
        let stats = try await store.stats(tenant: nil)
        #expect(stats.counts[.completedWithErrors] == 2 && (stats.counts[.running] ?? 0) == 0 && stats.counts[.queued] == 2)
    }

    @Test func aHeartbeatSinceTheStartIsInTheEvent() async throws {
        let clock = ManualClock()
        let store = makeStore("copy-beat", clock: clock)
        let job = try await store.enqueue(EnqueueRequest(type: "t"))
        let s = try #require(try await store.startJobs().first)
        clock.advance(by: 3)
        let beat = try await store.heartbeat(WorkerRegistration(id: "w1", queues: ["default"], slots: 1, busy: 1, startedAt: clock.now()),
                                             jobs: [(job.id, s.lease)])
        #expect(beat == [.ok])
        clock.advance(by: 1)
        #expect(try await store.finish([FinishReport(id: job.id, lease: s.lease, status: .completed, startedAs: s.packed)]) == [.ok])
        let done = try await store.job(id: job.id, tenant: nil)
        #expect(done.heartbeatAt != s.job.heartbeatAt && done.heartbeatAt != nil)
        try await expectLastEventIsTheJob(store, job.id)
    }

    @Test func aJobChangedSinceItStartedIsReadWhole() async throws {
        let store = makeStore("copy-changed")
        // Progress written since the start (a new version), and a cancel requested since (cancelling).
        let progressed = try await store.enqueue(EnqueueRequest(type: "t"))
        let cancelled = try await store.enqueue(EnqueueRequest(type: "t"))
        let started = try await store.startJobs(2)
        let p = try #require(started.first { $0.job.id == progressed.id })
        let c = try #require(started.first { $0.job.id == cancelled.id })
        let written = try await store.progress([ProgressReport(id: p.job.id, lease: p.lease, progress: JobProgress(current: 9, counters: ["x": 9]))])
        #expect(written.first?.signal == .ok)
        _ = try await store.cancel(id: c.job.id, tenant: nil, reason: "user")
        let answers = try await store.finish([
            FinishReport(id: p.job.id, lease: p.lease, status: .completed, startedAs: p.packed),
            FinishReport(id: c.job.id, lease: c.lease, status: .completed, startedAs: c.packed),
        ])
        #expect(answers == [.ok, .ok])
        let a = try await store.job(id: p.job.id, tenant: nil)
        #expect(a.progress?.counters == ["x": 9] && a.version == 4)  // the progress written, not the copy's
        let b = try await store.job(id: c.job.id, tenant: nil)
        #expect(b.status == .completed && b.cancel?.reason == "user")  // the cancel request kept
        try await expectLastEventIsTheJob(store, a.id)
        try await expectLastEventIsTheJob(store, b.id)
    }

    @Test func anotherRunsOrAClosedJobRefusesTheCopy() async throws {
        let clock = ManualClock()
        let store = makeStore("copy-refused", clock: clock, staleAfter: 2)
        let job = try await store.enqueue(EnqueueRequest(type: "t", maxAttempts: 3))
        let first = try #require(try await store.startJobs().first)
        clock.advance(by: 10)
        _ = try await store.reap()  // stale: requeued
        let second = try #require(try await store.startJobs(worker: "w2").first)
        #expect(second.job.version != first.job.version)
        let late = FinishReport(id: job.id, lease: first.lease, status: .failed, error: "late", startedAs: first.packed)
        #expect(try await store.finish([late]) == [.lost])
        #expect(try await store.finish([FinishReport(id: job.id, lease: second.lease, status: .completed, startedAs: second.packed)]) == [.ok])
        let done = try await store.job(id: job.id, tenant: nil)
        #expect(try await store.finish([FinishReport(id: job.id, lease: second.lease, status: .failed, startedAs: second.packed)]) == [.terminal])
        #expect(try await store.job(id: job.id, tenant: nil) == done)
        #expect(done.status == .completed && done.error == nil)
        try await expectLastEventIsTheJob(store, job.id)
    }

    @Test func aRetriedJobsErrorIsClearedByAFinishWithoutOne() async throws {
        let store = makeStore("copy-retried")
        var ids: [String] = []
        for _ in 0..<2 { ids.append(try await store.enqueue(EnqueueRequest(type: "t", maxAttempts: 3)).id) }
        for s in try await store.startJobs(2) {
            #expect(try await store.retry(id: s.job.id, lease: s.lease, delay: 0, error: "boom", progress: nil, refund: false) == .ok)
        }
        let again = try await store.startJobs(2)
        #expect(again.count == 2 && again.allSatisfy { $0.job.error == "boom" && $0.job.attempt == 2 })
        // One finishes through the copy, one without it: both clear the error.
        let answers = try await store.finish(again.enumerated().map { i, s in
            FinishReport(id: s.job.id, lease: s.lease, status: .completed, startedAs: i == 0 ? s.packed : nil)
        })
        #expect(answers == [.ok, .ok])
        for id in ids {
            let job = try await store.job(id: id, tenant: nil)
            #expect(job.status == .completed && job.error == nil)
            try await expectLastEventIsTheJob(store, id)
        }
    }

    @Test func aRunWritesNoHeartbeatExpectedOrEmptyErrorField() async throws {
        let store = makeStore("copy-fields")
        let job = try await store.enqueue(EnqueueRequest(type: "t", timeout: 12.5))
        let s = try #require(try await store.startJobs().first)
        // The start is the run's first beat, and expected is the deadline less the start.
        #expect(s.job.heartbeatAt == s.job.startedAt && s.job.expectedDurationSeconds == 12.5)
        let running = try await store.job(id: job.id, tenant: nil)
        #expect(running.heartbeatAt == running.startedAt && running.expectedDurationSeconds == 12.5)
        #expect(try await store.finish([FinishReport(id: job.id, lease: s.lease, status: .completed, startedAs: s.packed)]) == [.ok])
        for field in ["heartbeat_at", "expected", "error"] {
            #expect(try await store.redisCommand("HEXISTS", store.keys.job(job.id), field).int == 0, "\(field)")
        }
        let done = try await store.job(id: job.id, tenant: nil)
        #expect(done.heartbeatAt == done.startedAt && done.error == nil && done.expectedDurationSeconds == 12.5)
        try await expectLastEventIsTheJob(store, job.id)
    }

    @Test func aCopyThatIsNotAPackedJobIsIgnored() async throws {
        let store = makeStore("copy-garbage")
        let job = try await store.enqueue(EnqueueRequest(type: "t"))
        let s = try #require(try await store.startJobs().first)
        #expect(try await store.finish([FinishReport(id: job.id, lease: s.lease, status: .completed, startedAs: "not\u{1F}a job")]) == [.ok])
        try await expectLastEventIsTheJob(store, job.id)
    }

    @Test func theCopyIsTheStartedJobWithTheFinishWritten() throws {
        typealias P = Job.Position
        let fields = Job.fieldNames.indices.map { "f\($0)" }
        var packed = fields
        packed[P.version] = "41"
        let event = try #require(FinishedEvent(startedAs: packed.joined(separator: "\u{1F}"), status: "failed", progress: nil,
                                               completedAt: "1700", error: "e"))
        #expect(event.version == "41")
        var expected = packed
        expected[P.status] = "failed"; expected[P.version] = "42"; expected[P.completedAt] = "1700"; expected[P.error] = "e"
        expected[P.heartbeatAt] = "HB"
        #expect(event.head + "HB" + event.tail == expected.joined(separator: "\u{1F}"))
        let withProgress = try #require(FinishedEvent(startedAs: packed.joined(separator: "\u{1F}"), status: "completed",
                                                      progress: "{\"current\":1}", completedAt: "1", error: ""))
        #expect(withProgress.head.split(separator: "\u{1F}", omittingEmptySubsequences: false)[P.progress] == "{\"current\":1}")
        #expect(event.tenant == "f\(P.tenant)" && event.key == "f\(P.key)" && event.copyHasError)
        #expect(FinishedEvent(startedAs: "a\u{1F}b", status: "completed", progress: nil, completedAt: "1", error: "") == nil)
        packed[P.version] = "x"
        #expect(FinishedEvent(startedAs: packed.joined(separator: "\u{1F}"), status: "completed", progress: nil, completedAt: "1", error: "") == nil)
    }
}
