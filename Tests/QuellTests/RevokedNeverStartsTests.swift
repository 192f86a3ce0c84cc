import QuellTestSupport
import Testing
@testable import Quell

/// Invariant 4: a job cancelled while queued is skipped by every worker,
/// however it is fetched.
@Suite("Invariant 4: revoked never starts")
struct RevokedNeverStartsTests {
    @Test func cancelledWhileQueuedIsNeverStarted() async throws {
        let store = makeStore("revoked")
        let a = try await store.enqueue(EnqueueRequest(type: "t"))
        let b = try await store.enqueue(EnqueueRequest(type: "t"))
        let cancelled = try await store.cancel(id: a.id, tenant: nil)
        #expect(cancelled.status == .cancelled && cancelled.cancel?.reason == "user" && cancelled.completedAt != nil)
        let started = try await store.startJobs(10)
        #expect(started.map(\.job.id) == [b.id])
        #expect(try await store.job(id: a.id, tenant: nil).status == .cancelled)
    }

    @Test func cancelledAfterABlockingPopIsSkippedAtStart() async throws {
        let store = makeStore("revoked-claimed")
        let job = try await store.enqueue(EnqueueRequest(type: "t"))
        // A worker's blocking pop moved the id into its processing list…
        let moved = try await store.redis.send(RedisCommand("BLMOVE", store.keys.queue("default"), store.keys.processing("w1"), "RIGHT", "LEFT", 1))
        #expect(moved == .bulk(job.id))
        // …then the job was cancelled before the worker started it.
        #expect(try await store.cancel(id: job.id, tenant: nil).status == .cancelled)
        let result = try await store.start(worker: "w1", leasePrefix: "w1#", queues: ["default"], count: 5)
        #expect(result.started.isEmpty)
        #expect(result.skipped.map(\.id) == [job.id] && result.skipped.first?.reason == "cancelled")
        #expect(try await store.redis.send(RedisCommand("LLEN", store.keys.processing("w1"))) == .integer(0))
    }

    @Test func cancelledRetryLeavesTheSchedule() async throws {
        let store = makeStore("revoked-scheduled")
        let job = try await store.enqueue(EnqueueRequest(type: "t"))
        let s = try #require(try await store.startJobs().first)
        _ = try await store.retry(id: job.id, lease: s.lease, delay: 0.001, error: "e", progress: nil, refund: false)
        _ = try await store.cancel(id: job.id, tenant: nil)
        try await Task.sleep(for: .milliseconds(5))
        #expect(try await store.forward(queues: ["default"]) == 0)
        #expect(try await store.startJobs().isEmpty)
    }
}
