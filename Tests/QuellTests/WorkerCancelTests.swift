import QuellTestSupport
import Foundation
import Testing
@testable import Quell

/// Cancellation with real worker processes (invariants 4 and 5).
@Suite("Worker: cancel")
struct WorkerCancelTests {
    @Test func cancelledWhileQueuedNeverStarts() async throws {
        let store = makeStore("w-cancel-queued")
        let doomed = try await store.enqueue(EnqueueRequest(type: "demo.sleep", params: .object(["ms": .number(10)])))
        _ = try await store.cancel(id: doomed.id, tenant: nil)
        let worker = try WorkerProcess(store: store)
        let other = try await store.enqueue(EnqueueRequest(type: "demo.sleep", params: .object(["ms": .number(10)])))
        _ = try await store.waitForJob(other.id) { $0.status == .completed }
        let final = try await store.job(id: doomed.id, tenant: nil)
        #expect(final.status == .cancelled && final.startedAt == nil && final.attempt == 0, "\(worker.log)")
    }

    @Test func cancelStopsARunningSyncWithinABatchAndKeepsItsWork() async throws {
        let store = makeStore("w-cancel-running")
        let worker = try WorkerProcess(store: store)
        try await store.waitForWorkers(1)
        let job = try await store.enqueue(EnqueueRequest(type: "demo.sync", params: .object([
            "total": .number(400), "batch": .number(10), "delay_ms": .number(5), "source": .string("cancel-me")])))
        let synced = DemoTasks.syncedKey(store, tenant: "default", source: "cancel-me")
        // Let it sync a few batches.
        while try await store.redis.send(RedisCommand("SCARD", synced)).int! < 30 { try await Task.sleep(for: .milliseconds(5)) }
        let start = Date()
        _ = try await store.cancel(id: job.id, tenant: nil)
        // What was synced when the cancel took effect: at most the batch being
        // written at that moment may still land after it.
        let before = try await store.redis.send(RedisCommand("SCARD", synced)).int!
        let final = try await store.waitForJob(job.id) { $0.status.isTerminal }
        let took = Date().timeIntervalSince(start)
        let after = try await store.redis.send(RedisCommand("SCARD", synced)).int!
        #expect(final.status == .cancelled, "\(worker.log)")
        let counted = try #require(final.progress?.counters["synced"])
        #expect(counted > 0 && counted < 400)
        #expect(counted == after)          // the counters are the truth of what was written
        #expect(after - before <= 10)      // stopped within one batch
        #expect(took < 1)
        #expect(final.cancel?.reason == "user")
    }

    @Test func cancelLandsThroughTheHeartbeatWhenThePushIsLost() async throws {
        let store = makeStore("w-cancel-nopush")
        let worker = try WorkerProcess(store: store, heartbeat: 0.5, environment: ["QUELL_CANCEL_PUSH": "0"])
        let job = try await store.enqueue(EnqueueRequest(type: "demo.sleep", params: .object(["ms": .number(20_000)])))
        _ = try await store.waitForJob(job.id) { $0.status == .running }
        let start = Date()
        _ = try await store.cancel(id: job.id, tenant: nil)
        let final = try await store.waitForJob(job.id, 5) { $0.status.isTerminal }
        #expect(final.status == .cancelled, "\(worker.log)")
        #expect(Date().timeIntervalSince(start) < 0.5 + 0.5)  // within one heartbeat interval (+ margin)
    }
}
