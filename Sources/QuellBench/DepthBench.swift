import Foundation
import Quell

/// Does a transition cost more when the queue is deep? Redis time per call
/// (INFO commandstats, `fcall` usec: the function and the commands it ran)
/// for enqueue, start, finish and stats, with `shallow` jobs queued and with
/// `deep` jobs queued, interleaved over `reps` rounds; prints the medians and
/// the deep/shallow ratio.
enum DepthBench {
    static func run(_ options: Options) async throws {
        let url = try RedisURL(options.string("url", "redis://127.0.0.1:6379/0"))
        let deepCount = options.int("deep", 1_000_000)
        let shallowCount = options.int("shallow", 10)
        let ops = options.int("ops", 2000)
        let reps = options.int("reps", 5)
        let admin = RedisClient(url: url)
        defer { admin.close() }
        let tag = UInt32.random(in: 0...UInt32.max)
        let shallow = JobStore(configuration: QuellConfiguration(redisURL: url, prefix: "depth-shallow-\(tag)"))
        let deep = JobStore(configuration: QuellConfiguration(redisURL: url, prefix: "depth-deep-\(tag)"))
        defer { shallow.close(); deep.close() }

        try await fill(shallow, shallowCount)
        let t0 = monotonic()
        try await fill(deep, deepCount)
        print("filled \(deepCount) queued jobs in \(String(format: "%.1f", monotonic() - t0)) s")

        var samples: [String: [String: [Double]]] = ["shallow": [:], "deep": [:]]
        for round in 0..<reps {
            for (name, store) in [("shallow", shallow), ("deep", deep)] {
                for (op, value) in try await measure(store, admin: admin, ops: ops, round: round) {
                    samples[name]![op, default: []].append(value)
                }
            }
        }
        for op in ["enqueue", "start", "finish", "stats"] {
            let s = median(samples["shallow"]![op] ?? [])
            let d = median(samples["deep"]![op] ?? [])
            print(String(format: "%-8@ µs per call: %d queued %.2f, %d queued %.2f, ratio %.3f", op as NSString,
                         shallowCount, s, deepCount, d, d / s))
        }
        for store in [shallow, deep] { try await unlinkAll(admin, store.configuration.prefix) }
    }

    static func fill(_ store: JobStore, _ count: Int) async throws {
        var left = count
        while left > 0 {
            let n = min(1000, left)
            _ = try await store.enqueue(batch: (0..<n).map { _ in EnqueueRequest(type: "demo.noop") })
            left -= n
        }
    }

    /// µs of Redis time per call of each operation, one call at a time.
    /// Each round enqueues `ops` jobs and starts and finishes `ops` jobs, so
    /// the depth stays what it was.
    static func measure(_ store: JobStore, admin: RedisClient, ops: Int, round: Int) async throws -> [String: Double] {
        var out: [String: Double] = [:]
        try await admin.send("CONFIG", "RESETSTAT")
        for _ in 0..<ops { try await store.enqueue(EnqueueRequest(type: "demo.noop")) }
        out["enqueue"] = try await fcallUsec(admin) / Double(ops)

        var started: [StartedJob] = []
        try await admin.send("CONFIG", "RESETSTAT")
        for n in 0..<ops {
            let r = try await store.start(worker: "depth", leasePrefix: "d\(round).\(n)#", queues: ["default"], count: 1)
            started.append(contentsOf: r.started)
        }
        out["start"] = try await fcallUsec(admin) / Double(ops)

        try await admin.send("CONFIG", "RESETSTAT")
        for s in started { _ = try await store.finish([FinishReport(id: s.job.id, lease: s.lease, status: .completed, startedAs: s.packed)]) }
        out["finish"] = try await fcallUsec(admin) / Double(max(1, started.count))

        let statsCalls = max(1, ops / 10)
        try await admin.send("CONFIG", "RESETSTAT")
        for _ in 0..<statsCalls { _ = try await store.stats(tenant: nil) }
        out["stats"] = try await fcallUsec(admin) / Double(statsCalls)
        return out
    }

    static func fcallUsec(_ admin: RedisClient) async throws -> Double {
        Double(try await StoreBench.commandStat(admin, "usec=")["fcall"] ?? 0)
    }

    static func median(_ values: [Double]) -> Double {
        if values.isEmpty { return .nan }
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    static func unlinkAll(_ admin: RedisClient, _ prefix: String) async throws {
        var cursor = "0"
        repeat {
            let reply = try await admin.send("SCAN", cursor, "MATCH", "{\(prefix)}:*", "COUNT", 5000)
            let parts = try reply.expectArray()
            cursor = parts[0].string ?? "0"
            let keys = (parts[1].array ?? []).compactMap(\.string)
            if !keys.isEmpty { try await admin.send(RedisCommand("UNLINK", keys)) }
        } while cursor != "0"
    }
}
