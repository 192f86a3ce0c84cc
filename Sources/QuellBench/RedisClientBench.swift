import Foundation
import Quell

/// Round trips per second unpipelined, and commands per second pipelined in
/// batches of 100, over one connection — the same workload as
/// `redis-benchmark -t ping_mbulk -c 1 -P 1` and `-P 100`.
enum RedisClientBench {
    static func run(_ options: Options) async throws {
        let url = try RedisURL(options.string("url", "redis://127.0.0.1:6379/0"))
        let seconds = options.double("seconds", 3)
        let ping = RedisCommand("PING")

        // Synchronous connection on this thread (the worker's blocking fetch path).
        let connection = try RedisConnection(url: url)
        var n = 0
        var start = monotonic()
        while monotonic() - start < seconds {
            for _ in 0..<100 { _ = try connection.send(ping) }
            n += 100
        }
        report("sync_unpipelined", Double(n) / (monotonic() - start), "round_trips/s")

        let batch = [RedisCommand](repeating: ping, count: 100)
        n = 0
        start = monotonic()
        while monotonic() - start < seconds {
            for _ in 0..<10 { _ = try connection.pipeline(batch) }
            n += 1000
        }
        report("sync_pipelined_100", Double(n) / (monotonic() - start), "commands/s")
        connection.close()

        // The shared async client (what jobs, the API and the worker use).
        let client = RedisClient(url: url)
        defer { client.close() }
        n = 0
        start = monotonic()
        while monotonic() - start < seconds {
            for _ in 0..<100 { _ = try await client.send(ping) }
            n += 100
        }
        report("async_unpipelined", Double(n) / (monotonic() - start), "round_trips/s")

        n = 0
        start = monotonic()
        while monotonic() - start < seconds {
            for _ in 0..<10 { _ = try await client.pipeline(batch) }
            n += 1000
        }
        report("async_pipelined_100", Double(n) / (monotonic() - start), "commands/s")

        // 100 concurrent callers each sending one command: pipelined by the client thread.
        n = 0
        start = monotonic()
        while monotonic() - start < seconds {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<100 { group.addTask { _ = try await client.send(ping) } }
                try await group.waitForAll()
            }
            n += 100
        }
        report("async_100_concurrent_callers", Double(n) / (monotonic() - start), "commands/s")
    }
}
