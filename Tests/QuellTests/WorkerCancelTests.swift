import QuellTestSupport
import Foundation
import Testing
@testable import Quell
import QuellDemo

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
        _ = try await store.cancel(id: job.id, tenant: nil)
        let final = try await store.waitForJob(job.id) { $0.status.isTerminal }
        let after = try await store.redis.send(RedisCommand("SCARD", synced)).int!
        #expect(final.status == .cancelled, "\(worker.log)")
        let counted = try #require(final.progress?.counters["synced"])
        #expect(counted > 0 && counted < 400)
        #expect(counted == after)          // the counters are the truth of what was written (invariant 5)
        #expect(counted % 10 == 0)         // stopped at a checkpoint, between batches
        #expect(final.cancel?.reason == "user")
        // How fast a cancel lands is measured in bench/worker, not here.
    }

    @Test func cancelLandsThroughTheHeartbeatWhenThePushIsLost() async throws {
        let store = makeStore("w-cancel-nopush")
        // No pub/sub listener at all: only the heartbeat's reply can deliver the cancel.
        let worker = try WorkerProcess(store: store, heartbeat: 0.5, environment: ["QUELL_CANCEL_PUSH": "0"])
        // Runs until told to stop (an hour): only a cancel that lands ends it.
        let job = try await store.enqueue(EnqueueRequest(type: "demo.sleep", params: .object(["ms": .number(3_600_000)])))
        _ = try await store.waitForJob(job.id) { $0.status == .running }
        _ = try await store.cancel(id: job.id, tenant: nil)
        let final = try await store.waitForJob(job.id) { $0.status.isTerminal }
        #expect(final.status == .cancelled && final.cancel?.reason == "user", "\(worker.log)")
        #expect(final.attempt == 1)
    }
}
