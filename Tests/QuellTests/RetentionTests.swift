import Foundation
import QuellTestSupport
import Testing
@testable import Quell

/// The janitor deletes finished jobs past the retention — and nothing else.
@Suite("Retention")
struct RetentionTests {
    @Test func finishedJobsPastRetentionAreDeletedWithTheirIndexEntries() async throws {
        let clock = ManualClock()
        var store = makeStore("retention", clock: clock)
        store = JobStore(redis: store.redis, configuration: { var c = store.configuration; c.retention = 3600; return c }(), clock: clock)
        let old = try await store.enqueue(EnqueueRequest(type: "t", tenant: "acme", key: "k"))
        let s = try #require(try await store.startJobs().first)
        _ = try await store.finish([FinishReport(id: old.id, lease: s.lease, status: .completed)])
        let cancelledOld = try await store.enqueue(EnqueueRequest(type: "t", tenant: "globex"))
        _ = try await store.cancel(id: cancelledOld.id, tenant: nil)
        let stillQueued = try await store.enqueue(EnqueueRequest(type: "t", tenant: "acme"))
        clock.advance(by: 1800)
        // Created long ago but finished only now: kept until its own retention passes.
        let lateStarter = try await store.enqueue(EnqueueRequest(type: "t", tenant: "acme"))
        clock.advance(by: 1900)   // old jobs: finished 3700 s ago
        let ls = try #require(try await store.startJobs(2).first { $0.job.id == lateStarter.id })
        _ = try await store.finish([FinishReport(id: lateStarter.id, lease: ls.lease, status: .failed, error: "x")])
        let recent = try await store.enqueue(EnqueueRequest(type: "t", tenant: "acme"))
        _ = try await store.cancel(id: recent.id, tenant: nil)

        #expect(try await store.expireFinished() == 2)
        await #expect(throws: QuellError.notFound(old.id)) { _ = try await store.job(id: old.id, tenant: nil) }
        await #expect(throws: QuellError.notFound(cancelledOld.id)) { _ = try await store.job(id: cancelledOld.id, tenant: nil) }
        #expect(try await store.job(id: lateStarter.id, tenant: nil).status == .failed)
        #expect(try await store.job(id: recent.id, tenant: nil).status == .cancelled)
        // The queued job was started above by startJobs(2) and is running: never expired.
        #expect(try await store.job(id: stillQueued.id, tenant: nil).status.isTerminal == false)
        let acme = try await store.jobs(tenant: "acme")
        #expect(!acme.jobs.contains { $0.id == old.id })
        #expect(try await store.jobs(key: "k", tenant: "acme").jobs.isEmpty)
        #expect(try await store.stats(tenant: nil).counts[.completed] == 0)
        #expect(try await store.expireFinished() == 0)
        clock.advance(by: 3700)
        #expect(try await store.expireFinished() == 2)  // lateStarter and recent, now past retention too
    }

    @Test func timePrefixOrdersLikeIds() {
        let date = Date(timeIntervalSince1970: 1_800_000_000)
        let prefix = JobID.timePrefix(date)
        #expect(prefix.count == 10)
        #expect(JobID.make(at: date.addingTimeInterval(-0.001)) < prefix)
        #expect(JobID.make(at: date) > prefix)
        #expect(JobID.make(at: date).hasPrefix(prefix))
        // An id carries its own time even after ids were made at a later time.
        _ = JobID.make(at: date.addingTimeInterval(86_400))
        #expect(JobID.make(at: date).hasPrefix(prefix))
    }

    /// `QUELL_RETENTION_SECONDS` takes effect in `quell worker` (it was
    /// documented and ignored): a real worker process's janitor deletes a
    /// job finished longer ago than the setting.
    @Test func quellWorkerHonoursTheRetentionSetting() async throws {
        let store = makeStore("retention-worker")
        let job = try await store.enqueue(EnqueueRequest(type: "t"))
        let started = try #require(try await store.startJobs().first)
        _ = try await store.finish([FinishReport(id: job.id, lease: started.lease, status: .completed)])
        let finished = try await store.job(id: job.id, tenant: nil).completedAt ?? Date()
        while Date().timeIntervalSince(finished) <= 1.2 { try await Task.sleep(for: .milliseconds(20)) }
        let worker = try WorkerProcess(store: store, environment: ["QUELL_RETENTION_SECONDS": "1"])
        let end = Date().addingTimeInterval(60)
        var gone = false
        while !gone && Date() < end {
            gone = try await !store.jobExists(job.id)
            if !gone { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(gone, "\(worker.log)")
    }
}
