import Foundation
import Quell

/// What one job costs Redis for enqueue → start → finish (from INFO
/// commandstats: commands run inside scripts included), how many client
/// round trips, and enqueue rates one at a time and batched.
enum StoreBench {
    static func run(_ options: Options) async throws {
        let url = try RedisURL(options.string("url", "redis://127.0.0.1:6379/0"))
        let jobs = options.int("jobs", 20_000)
        let batch = options.int("batch", 100)
        var config = QuellConfiguration(redisURL: url, prefix: "bench-\(UInt32.random(in: 0...UInt32.max))")
        config.eventsMaxLength = 1_000_000
        let store = JobStore(configuration: config)
        defer { store.close() }
        let admin = RedisClient(url: url)
        defer { admin.close() }

        // Enqueue one at a time (each awaits its reply: one round trip per job).
        let single = min(jobs, 5000)
        var start = monotonic()
        for _ in 0..<single { try await store.enqueue(EnqueueRequest(type: "demo.noop")) }
        report("enqueue_single", Double(single) / (monotonic() - start), "jobs/s")

        // Measure Redis commands per job for the batched path.
        try await admin.send("CONFIG", "RESETSTAT")
        let trips0 = store.redis.statistics.roundTrips
        start = monotonic()
        var requests: [EnqueueRequest] = []
        for _ in 0..<jobs {
            requests.append(EnqueueRequest(type: "demo.noop"))
            if requests.count == batch {
                _ = try await store.enqueue(batch: requests)
                requests.removeAll(keepingCapacity: true)
            }
        }
        if !requests.isEmpty { _ = try await store.enqueue(batch: requests) }
        report("enqueue_batched_\(batch)", Double(jobs) / (monotonic() - start), "jobs/s")
        let enqueueCalls = try await commandCalls(admin)
        let enqueueUsec = try await commandStat(admin, "usec=")["fcall"] ?? 0
        let enqueueTrips = store.redis.statistics.roundTrips - trips0

        try await admin.send("CONFIG", "RESETSTAT")
        let trips1 = store.redis.statistics.roundTrips
        var started = 0
        start = monotonic()
        var round = 0
        while started < jobs + single {
            let r = try await store.start(worker: "bench", leasePrefix: "b\(round)#", queues: ["default"], count: batch)
            if r.started.isEmpty { break }
            started += r.started.count
            _ = try await store.finish(r.started.map { FinishReport(id: $0.job.id, lease: $0.lease, status: .completed, startedAs: $0.packed) })
            round += 1
        }
        report("start_finish_batched_\(batch)", Double(started) / (monotonic() - start), "jobs/s")
        let runCalls = try await commandCalls(admin)
        let runUsec = try await commandStat(admin, "usec=")["fcall"] ?? 0
        let runTrips = store.redis.statistics.roundTrips - trips1

        func perJob(_ calls: [String: Int], _ n: Int) -> String {
            calls.sorted { $0.value > $1.value }.map { "\($0.key)=\(String(format: "%.2f", Double($0.value) / Double(n)))" }.joined(separator: " ")
        }
        let inside = { (c: [String: Int]) in c.filter { $0.key != "fcall" && $0.key != "config" }.values.reduce(0, +) }
        print("enqueue: redis commands per job \(String(format: "%.2f", Double(inside(enqueueCalls)) / Double(jobs)))"
              + " (\(perJob(enqueueCalls, jobs))), round trips per job \(String(format: "%.3f", Double(enqueueTrips) / Double(jobs)))"
              + ", Redis time in scripts \(String(format: "%.1f", Double(enqueueUsec) / Double(jobs))) µs per job")
        print("start+finish: redis commands per job \(String(format: "%.2f", Double(inside(runCalls)) / Double(started)))"
              + " (\(perJob(runCalls, started))), round trips per job \(String(format: "%.3f", Double(runTrips) / Double(started)))"
              + ", Redis time in scripts \(String(format: "%.1f", Double(runUsec) / Double(started))) µs per job")

        // Clean up the benchmark's keys.
        var cursor = "0"
        repeat {
            let reply = try await admin.send("SCAN", cursor, "MATCH", "{\(config.prefix)}:*", "COUNT", 5000)
            let parts = try reply.expectArray()
            cursor = parts[0].string ?? "0"
            let keys = (parts[1].array ?? []).compactMap(\.string)
            if !keys.isEmpty { try await admin.send(RedisCommand("UNLINK", keys)) }
        } while cursor != "0"
    }

    /// calls per command from INFO commandstats.
    static func commandCalls(_ client: RedisClient) async throws -> [String: Int] {
        try await commandStat(client, "calls=")
    }

    /// One number per command from INFO commandstats (`calls=` or `usec=`).
    static func commandStat(_ client: RedisClient, _ field: String) async throws -> [String: Int] {
        let text = try await client.send("INFO", "commandstats").expectString()
        var out: [String: Int] = [:]
        for line in text.split(separator: "\r\n") where line.hasPrefix("cmdstat_") {
            let name = line.dropFirst(8).prefix { $0 != ":" }
            if let r = line.range(of: field), let n = Int(line[r.upperBound...].prefix { $0.isNumber }) {
                out[String(name)] = n
            }
        }
        return out
    }
}
