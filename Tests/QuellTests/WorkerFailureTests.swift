import QuellTestSupport
import Foundation
import Testing
@testable import Quell

/// Timeouts, retries, bad payloads and shutdown with real worker processes.
@Suite("Worker: failures and shutdown")
struct WorkerFailureTests {
    @Test func pastItsDeadlineIsTimedOutAndReleasesItsKey() async throws {
        let store = makeStore("w-timeout")
        let worker = try WorkerProcess(store: store)
        let job = try await store.enqueue(EnqueueRequest(type: "demo.sleep", params: .object(["ms": .number(30_000)]),
                                                         key: "slow", timeout: 0.5))
        let final = try await store.waitForJob(job.id) { $0.status.isTerminal }
        #expect(final.status == .timedOut, "\(worker.log)")
        #expect(final.error?.contains("deadline") == true)
        _ = try await store.enqueue(EnqueueRequest(type: "demo.noop", key: "slow"))  // key released
    }

    @Test func failingHandlerIsRetriedWithGrowingDelaysThenFailed() async throws {
        let store = makeStore("w-retry")
        let worker = try WorkerProcess(store: store, reaper: 0.05, environment: ["QUELL_RETRY_BASE_SECONDS": "0.3"])
        let job = try await store.enqueue(EnqueueRequest(type: "demo.fail", params: .object(["message": .string("boom")]), maxAttempts: 3))
        let final = try await store.waitForJob(job.id) { $0.status.isTerminal }
        #expect(final.status == .failed && final.attempt == 3 && final.error == "boom", "\(worker.log)")
        // Gaps between a failure (back to queued) and the next start grow: ≥ base/2, then ≥ base.
        let events = try await store.allEvents(of: job.id)
        let requeuedAt = events.filter { $0.job.status == .queued && $0.job.version > 1 }.compactMap { e in
            UInt64(e.id.split(separator: "-")[0])
        }
        let startedAt = events.filter { $0.job.status == .running }.dropFirst().compactMap(\.job.startedAt)
        #expect(requeuedAt.count == 2 && startedAt.count == 2)
        let gaps = zip(requeuedAt, startedAt).map { $1.timeIntervalSince1970 - Double($0) / 1000 }
        // Lower bounds with room for the time between the worker taking `now` and
        // Redis stamping the event (the exact delays are checked with a manual
        // clock in LibraryWorkerTests).
        #expect(gaps.count == 2 && gaps[0] >= 0.05 && gaps[1] >= 0.2, "gaps \(gaps)")
    }

    @Test func undecodablePayloadFailsAtOnceAndTheWorkerGoesOn() async throws {
        let store = makeStore("w-payload")
        let worker = try WorkerProcess(store: store)
        let bad = try await store.enqueue(EnqueueRequest(type: "demo.sync", params: .object(["total": .string("many")])))
        let unknown = try await store.enqueue(EnqueueRequest(type: "no.such.task"))
        let good = try await store.enqueue(EnqueueRequest(type: "demo.noop"))
        let b = try await store.waitForJob(bad.id) { $0.status.isTerminal }
        #expect(b.status == .failed && b.attempt == 1, "\(worker.log)")
        #expect(b.error?.contains("cannot decode params") == true && b.error?.contains("total") == true)
        let u = try await store.waitForJob(unknown.id) { $0.status.isTerminal }
        #expect(u.status == .failed && u.error?.contains("no handler") == true)
        #expect(try await store.waitForJob(good.id) { $0.status.isTerminal }.status == .completed)
    }

    @Test func sigtermRequeuesTheRunningJobAndExitsZero() async throws {
        let store = makeStore("w-shutdown")
        let worker = try WorkerProcess(store: store, grace: 0.3)
        let job = try await store.enqueue(EnqueueRequest(type: "demo.sleep", params: .object(["ms": .number(30_000)])))
        _ = try await store.waitForJob(job.id) { $0.status == .running }
        worker.process.signal(SIGTERM)
        let code = await worker.process.exitCode(timeout: 60)  // a hang guard; the exit is waited for
        #expect(code == 0, "\(worker.log)")
        let requeued = try await store.job(id: job.id, tenant: nil)
        #expect(requeued.status == .queued && requeued.attempt == 0 && requeued.error?.contains("shutdown") == true)
        #expect(try await store.stats(tenant: nil).workers.isEmpty)  // deregistered
    }
}
