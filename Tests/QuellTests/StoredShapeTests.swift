import Foundation
import QuellTestSupport
import Testing
@testable import Quell

/// The job hash: what never changes in one `spec` field, the rest as fields
/// of their own (docs/internals.md "Scripts"). A job stored by an older
/// Quell, every field under its own name, still runs, ends and releases its
/// dedupe key, and reads the same.
@Suite struct StoredShapeTests {
    /// The hash as enqueue.lua writes it now.
    @Test func aNewJobIsSevenFieldsAndReadsWhole() async throws {
        let store = makeStore("shape-new")
        var request = EnqueueRequest(type: "demo.sync", params: .object(["n": .number(1)]), tenant: "acme", key: "k1", timeout: 9)
        request.headers = ["trace": "t1"]
        let job = try await store.enqueue(request)
        let fields = try await store.redisCommand("HGETALL", store.keys.job(job.id)).pairs()
        #expect(Set(fields.keys) == ["spec", "tenant", "timeout", "params", "status", "attempt", "version"])
        #expect(fields["spec"]?.split(separator: "\u{1F}", omittingEmptySubsequences: false).count == Job.specNames.count)
        let read = try await store.job(id: job.id, tenant: "acme")
        #expect(read == job)
        #expect(read.type == "demo.sync" && read.queue == "default" && read.key == "k1" && read.timeoutSeconds == 9)
        #expect(read.headers == ["trace": "t1"] && read.maxAttempts == job.maxAttempts && read.createdAt == job.createdAt)
        let queued = try #require(try await store.allEvents(of: job.id).first)
        var expected = read
        expected.params = nil
        #expect(queued.job == expected)
    }

    /// A job rewritten into the shape an older Quell stored: it starts,
    /// finishes (through the worker's copy), releases its key, and its
    /// events and reads agree with the hash.
    @Test func aJobStoredByAnOlderQuellRunsAndReleasesItsKey() async throws {
        let store = makeStore("shape-old")
        let job = try await store.enqueue(EnqueueRequest(type: "demo.sync", tenant: "acme", key: "k1", maxAttempts: 2))
        let ms = String(Int(job.createdAt.timeIntervalSince1970 * 1000))
        _ = try await store.redisCommand("DEL", store.keys.job(job.id))
        _ = try await store.redisCommand("HSET", store.keys.job(job.id), "id", job.id, "type", "demo.sync", "queue", "default",
                                         "tenant", "acme", "key", "k1", "status", "queued", "attempt", "0", "max_attempts", "2",
                                         "version", "1", "created_at", ms, "params", "{}")
        let old = try await store.job(id: job.id, tenant: nil)
        #expect(old.key == "k1" && old.queue == "default" && old.maxAttempts == 2 && old.createdAt == job.createdAt)
        // A second job for the key conflicts: the old job holds it.
        await #expect(throws: QuellError.self) { _ = try await store.enqueue(EnqueueRequest(type: "demo.sync", tenant: "acme", key: "k1")) }

        let s = try #require(try await store.startJobs().first)
        #expect(s.job.id == job.id && s.job.status == .running && s.job.key == "k1" && s.job.tenant == "acme")
        #expect(try await store.finish([FinishReport(id: job.id, lease: s.lease, status: .completed, startedAs: s.packed)]) == [.ok])
        var done = try await store.job(id: job.id, tenant: "acme")
        #expect(done.status == .completed && done.key == "k1" && done.type == "demo.sync")
        done.params = nil
        #expect(try await store.allEvents(of: job.id).last?.job == done)
        // The key is free again.
        let next = try await store.enqueue(EnqueueRequest(type: "demo.sync", tenant: "acme", key: "k1"))
        #expect(next.id != job.id && next.status == .queued)
    }

    /// A job moved to another queue by hand (a field of its own beside the
    /// spec, as the chaos suite's poison does) is read from that queue.
    @Test func aFieldOfItsOwnWinsOverTheSpec() async throws {
        let store = makeStore("shape-moved")
        let job = try await store.enqueue(EnqueueRequest(type: "t", queue: "hold", maxAttempts: 3))
        _ = try await store.redisCommand("HSET", store.keys.job(job.id), "queue", "other")
        #expect(try await store.job(id: job.id, tenant: nil).queue == "other")
        _ = try await store.redisCommand("LREM", store.keys.queue("hold"), 0, job.id)
        _ = try await store.redisCommand("LPUSH", store.keys.queue("other"), job.id)
        let s = try #require(try await store.startJobs(queues: ["other"]).first)
        // A retry puts it back on the queue it is read from.
        #expect(try await store.retry(id: job.id, lease: s.lease, delay: 0, error: "again", progress: nil, refund: false) == .ok)
        #expect(try await store.redisCommand("LRANGE", store.keys.queue("other"), 0, -1).array?.compactMap(\.string) == [job.id])
    }
}
