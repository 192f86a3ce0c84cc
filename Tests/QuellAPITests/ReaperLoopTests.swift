import Foundation
import Quell
import QuellAPI
import Synchronization
import Testing

/// The API process's interim reaper loop.
@Suite struct ReaperLoopTests {
    final class Log: Sendable {
        let lines = Mutex<[String]>([])
        func add(_ s: String) { lines.withLock { $0.append(s) } }
        func contains(_ s: String) -> Bool { lines.withLock { $0.contains { $0.contains(s) } } }
    }

    @Test func requeuesAStaleJob() async throws {
        var config = QuellConfiguration(redisURL: TestRedis.url, prefix: TestRedis.prefix("reaper"))
        config.staleAfter = 0.2
        config.reaperInterval = 0.05
        let store = JobStore(redis: TestRedis.client("reaper"), configuration: config)
        defer { store.redis.close() }
        let job = try await store.enqueue(EnqueueRequest(type: "t", tenant: "acme"))
        _ = try await store.start(worker: "gone", leasePrefix: "l#", queues: ["default"], count: 1)
        let log = Log()
        let loop = Task { await APIReaperLoop(store: store, log: log.add).run() }
        #expect(await eventually { try await store.job(id: job.id, tenant: nil).status == .queued })
        #expect(await eventually { log.contains("reaper: requeued 1") })
        loop.cancel()
        await loop.value
        let requeued = try await store.job(id: job.id, tenant: nil)
        #expect(requeued.error?.contains("worker gone lost") == true)
    }

    @Test func logsFailuresAndStopsWhenCancelled() async throws {
        var config = QuellConfiguration(redisURL: RedisURL(endpoint: .tcp(host: "127.0.0.1", port: freePort())), prefix: "nothing")
        config.reaperInterval = 0.02
        let store = JobStore(redis: RedisClient(url: config.redisURL, options: RedisOptions(connectTimeout: 0.2)), configuration: config)
        defer { store.redis.close() }
        let log = Log()
        var loop = APIReaperLoop(store: store, log: log.add)
        loop.backoff = Backoff(base: 0.01, max: 0.05)
        let task = Task { [loop] in await loop.run() }
        #expect(await eventually { log.contains("reaper: sweep failed") })
        task.cancel()
        let begin = ContinuousClock.now
        await task.value
        #expect(begin.duration(to: .now) < .seconds(1))
    }
}
