import QuellTestSupport
import QuellDemo
import Foundation
import Testing
@testable import Quell

/// The hard stop, with real worker processes: a handler that ignores its
/// cancel (demo.stubborn: a wait that honours no cancellation and reaches no
/// checkpoint) is abandoned after the cancel grace — the job `cancelled` (or
/// `timed_out`) with reason `forced`, its key and slot free, its late
/// outcome refused — and a worker holding more abandoned handlers than its
/// limit stops and exits with code 75 for its supervisor to restart it.
@Suite("Hard stop", .serialized)
struct HardStopTests {
    @Test func aHandlerThatIgnoresItsCancelIsAbandonedAfterTheGrace() async throws {
        let store = makeStore("hard-stop-cancel")
        let worker = try WorkerProcess(store: store, concurrency: 1, environment: [
            "QUELL_CANCEL_GRACE_SECONDS": "1", "QUELL_ABANDONED_TASK_LIMIT": "1"])
        try await store.waitForWorkers(1)
        let job = try await store.enqueue(EnqueueRequest(type: "demo.stubborn", key: "mailbox-7"))
        _ = try await store.waitForJob(job.id) { $0.status == .running && $0.progress != nil }
        _ = try await store.cancel(id: job.id, tenant: nil)
        // It stays cancelling while the worker waits out the grace, then is forced.
        let forced = try await store.waitForJob(job.id) { $0.status.isTerminal }
        #expect(forced.status == .cancelled && forced.cancel?.reason == "forced", "\(worker.log)")
        #expect(forced.error?.contains("did not stop within 1s of the cancel (user)") == true, "\(forced.error ?? "")")
        let returned = DemoTasks.stubbornReturnedKey(store.keys, job: job.id)
        #expect(try await store.redisCommand("EXISTS", returned).int == 0, "forced while the handler still hangs")

        // Key free, slot free: a job on the same key runs on this one-slot worker
        // while the abandoned handler still hangs.
        let next = try await store.enqueue(EnqueueRequest(type: "demo.noop", key: "mailbox-7"))
        #expect(try await store.waitForJob(next.id) { $0.status.isTerminal }.status == .completed)
        #expect(try await store.redisCommand("EXISTS", returned).int == 0)

        // Let the abandoned handler return: its outcome (completed, with progress
        // and a cursor) is refused; the job is as the hard stop left it.
        try await store.redisCommand("SET", DemoTasks.stubbornReleaseKey(store.keys, job: job.id), "1")
        try await waitFor("the late outcome refused", worker) { worker.log.contains("its late outcome was refused") }
        #expect(!worker.log.contains("ACCEPTED"))
        #expect(try await store.redisCommand("EXISTS", returned).int == 1)
        #expect(try await store.job(id: job.id, tenant: nil) == forced)
        #expect(try await store.stats(tenant: nil).forcedStopsTotal == 1)
        #expect(worker.process.isRunning, "one abandoned handler is within the limit")
    }

    /// QUELL_ABANDONED_TASK_LIMIT=0: the first abandoned handler is one too
    /// many. Here the stop is the deadline (a fixed 1 s timeout), so the job
    /// ends `timed_out` with reason `forced`; the worker then stops taking
    /// jobs and exits with code 75, saying why.
    @Test func aWorkerHoldingTooManyAbandonedHandlersExitsWithCode75() async throws {
        let store = makeStore("hard-stop-limit")
        let worker = try WorkerProcess(store: store, concurrency: 2, heartbeat: 0.2, stale: 30, environment: [
            "QUELL_CANCEL_GRACE_SECONDS": "1", "QUELL_ABANDONED_TASK_LIMIT": "0"])
        try await store.waitForWorkers(1)
        var request = EnqueueRequest(type: "demo.stubborn", key: "k")
        request.timeout = 1
        let job = try await store.enqueue(request)
        let forced = try await store.waitForJob(job.id) { $0.status.isTerminal }
        #expect(forced.status == .timedOut && forced.cancel?.reason == "forced", "\(worker.log)")
        #expect(forced.error?.contains("of its deadline") == true, "\(forced.error ?? "")")
        let code = await worker.process.exitCode(timeout: 60)
        #expect(code == 75, "\(worker.log)")
        #expect(worker.log.contains("holding 1 abandoned handlers, more than QUELL_ABANDONED_TASK_LIMIT (0)"), "\(worker.log)")
        #expect(worker.log.contains("exiting with code 75: it held more abandoned handlers than QUELL_ABANDONED_TASK_LIMIT=0"),
                "\(worker.log)")
        #expect(try await store.enqueue(EnqueueRequest(type: "demo.noop", key: "k")).status == .queued, "key released")
    }

    private func waitFor(_ what: String, _ worker: WorkerProcess, seconds: Double = 60, _ condition: () -> Bool) async throws {
        let end = Date().addingTimeInterval(seconds)
        while !condition() {
            if Date() > end { throw QuellError.invalid("not seen after \(seconds)s: \(what)\n\(worker.log)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
