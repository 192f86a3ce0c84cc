import Foundation
import Glibc
import Quell
import QuellDemo
import QuellSystem
import Synchronization

/// End-to-end worker numbers: throughput of N demo.noop jobs through one
/// `quell worker` process (enqueue all then drain; enqueue while draining),
/// client round trips and Redis commands per job, worker RSS idle and under
/// load; and cancel latency for a handler that checkpoints every 1 ms.
enum WorkerBench {
    static func run(_ options: Options) async throws {
        let url = try RedisURL(options.string("url", "redis://127.0.0.1:6379/0"))
        let jobs = options.int("jobs", 20_000)
        let concurrency = options.int("concurrency", 64)
        let binary = options.string("quell", ".build/release/quell")
        for mode in ["enqueue-then-drain", "enqueue-while-draining"] {
            try await throughput(url: url, jobs: jobs, concurrency: concurrency, binary: binary, mode: mode)
        }
        try await cancelLatency(url: url, samples: options.int("samples", 300))
    }

    static func throughput(url: RedisURL, jobs: Int, concurrency: Int, binary: String, mode: String) async throws {
        let prefix = "bench-\(UInt32.random(in: 0...UInt32.max))"
        var config = QuellConfiguration(redisURL: url, prefix: prefix)
        config.eventsMaxLength = 1_000_000
        let store = JobStore(configuration: config)
        defer { store.close() }
        let batch = (0..<100).map { _ in EnqueueRequest(type: "demo.noop") }
        func enqueueAll() async throws {
            for _ in 0..<(jobs / 100) { _ = try await store.enqueue(batch: batch) }
        }
        try await store.redis.send("CONFIG", "RESETSTAT")
        if mode == "enqueue-then-drain" { try await enqueueAll() }
        let logPath = "/tmp/quell-bench-worker-\(prefix).log"
        let worker = try spawn(binary, ["worker", "--concurrency", String(concurrency)],
                               env: ["QUELL_REDIS_URL": url.description, "QUELL_PREFIX": prefix], log: logPath)
        try await store.waitForWorkers()
        let idleRSS = rss(worker)
        let redisCPU0 = try await redisCPU(store.redis)
        let workerCPU0 = cpuSeconds(worker)
        let start = monotonic()
        var producer: Task<Void, any Error>? = nil
        if mode == "enqueue-while-draining" { producer = Task { try await enqueueAll() } }
        var peakRSS = idleRSS
        while true {
            // One ZCARD: cheap enough not to disturb what it measures.
            let done = try await store.redis.send("ZCARD", store.keys.index(tenant: "default", status: .completed)).int ?? 0
            peakRSS = max(peakRSS, rss(worker))
            if done >= jobs { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        let elapsed = monotonic() - start
        let redisCPU1 = try await redisCPU(store.redis)
        let workerCPU1 = cpuSeconds(worker)
        try await producer?.value
        kill(worker, SIGTERM)
        var status: Int32 = 0
        waitpid(worker, &status, 0)
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: logPath)
        let trips = log.range(of: #"(\d+) round trips"#, options: .regularExpression).map { Int(log[$0].split(separator: " ")[0]) ?? 0 } ?? 0
        let calls = try await StoreBench.commandCalls(store.redis)
        let inScripts = calls.filter { !["fcall", "function|load", "config|resetstat", "info", "blmove", "hgetall"].contains($0.key) }.values.reduce(0, +)
        print("throughput \(mode): \(jobs) jobs in \(String(format: "%.2f", elapsed)) s = \(Int(Double(jobs) / elapsed)) jobs/s"
              + " (concurrency \(concurrency))")
        print("  worker client round trips per job \(String(format: "%.3f", Double(trips) / Double(jobs)))"
              + "; redis commands per job (enqueue+start+finish, inside scripts) \(String(format: "%.1f", Double(inScripts) / Double(jobs)))")
        print("  CPU during the run: redis-server \(String(format: "%.2f", redisCPU1 - redisCPU0)) s, worker \(String(format: "%.2f", workerCPU1 - workerCPU0)) s"
              + " (\(String(format: "%.1f", (redisCPU1 - redisCPU0) / Double(jobs) * 1e6)) µs and \(String(format: "%.1f", (workerCPU1 - workerCPU0) / Double(jobs) * 1e6)) µs per job)")
        print("  worker RSS idle \(idleRSS / 1024) MiB, peak under load \(peakRSS / 1024) MiB")
        try await cleanup(store)
    }

    /// Cancel latency from the cancel call to (a) the handler's checkpoint
    /// throwing and (b) `cancelled` visible to a reader. The worker runs in
    /// this process so both ends read one clock; the reader and the canceller
    /// use connections of their own.
    static func cancelLatency(url: RedisURL, samples: Int) async throws {
        let prefix = "bench-cancel-\(UInt32.random(in: 0...UInt32.max))"
        let config = QuellConfiguration(redisURL: url, prefix: prefix)
        let workerStore = JobStore(configuration: config, clientName: "bench-worker")
        let canceller = JobStore(configuration: config, clientName: "bench-cancel")
        let reader = RedisClient(url: url, options: RedisOptions(clientName: "bench-reader"))
        let thrown = Mutex<[String: Double]>([:])
        let registry = TaskRegistry()
        registry.register("bench.spin", params: DemoTasks.NoParams.self) { _, context in
            let (t, error) = await spinUntilStopped(context)
            thrown.withLock { $0[context.job.id] = t }
            throw error
        }
        let worker = Worker(store: workerStore, registry: registry, options: Worker.Options(concurrency: 4))
        worker.start()
        while !worker.isListening { try await Task.sleep(for: .milliseconds(5)) }
        var stopLatency: [Double] = []
        var visibleLatency: [Double] = []
        for _ in 0..<samples {
            let job = try await canceller.enqueue(EnqueueRequest(type: "bench.spin"))
            while try await reader.send("HGET", workerStore.keys.job(job.id), "status") != .bulk("running") {
                try await Task.sleep(for: .milliseconds(1))
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 2...8)))
            let t0 = monotonic()
            _ = try await canceller.cancel(id: job.id, tenant: nil)
            while try await reader.send("HGET", workerStore.keys.job(job.id), "status") != .bulk("cancelled") {}
            let t2 = monotonic()
            visibleLatency.append(t2 - t0)
            if let t1 = thrown.withLock({ $0[job.id] }) { stopLatency.append(t1 - t0) }
        }
        await worker.shutdown(grace: 1)
        func pct(_ xs: [Double], _ p: Double) -> String {
            let s = xs.sorted()
            return String(format: "%.2f ms", s[min(s.count - 1, Int(Double(s.count) * p))] * 1000)
        }
        print("cancel latency (\(samples) samples, handler checkpoints every 1 ms):")
        print("  (a) cancel call -> handler checkpoint throws: p50 \(pct(stopLatency, 0.5)), p99 \(pct(stopLatency, 0.99)), max \(pct(stopLatency, 1))")
        print("  (b) cancel call -> cancelled visible to a reader: p50 \(pct(visibleLatency, 0.5)), p99 \(pct(visibleLatency, 0.99)), max \(pct(visibleLatency, 1))")
        try await cleanup(canceller)
        workerStore.close()
        canceller.close()
        reader.close()
    }

    static func cleanup(_ store: JobStore) async throws {
        var cursor = "0"
        repeat {
            let reply = try await store.redis.send("SCAN", cursor, "MATCH", "\(store.keys.base):*", "COUNT", 5000)
            let parts = try reply.expectArray()
            cursor = parts[0].string ?? "0"
            let keys = (parts[1].array ?? []).compactMap(\.string)
            if !keys.isEmpty { try await store.redis.send(RedisCommand("UNLINK", keys)) }
        } while cursor != "0"
    }

    /// used_cpu_user + used_cpu_sys of the Redis server, seconds.
    static func redisCPU(_ client: RedisClient) async throws -> Double {
        let text = try await client.send("INFO", "cpu").expectString()
        var total = 0.0
        for line in text.split(separator: "\r\n") where line.hasPrefix("used_cpu_user:") || line.hasPrefix("used_cpu_sys:") {
            total += Double(line.split(separator: ":")[1]) ?? 0
        }
        return total
    }

    /// utime + stime of a process, seconds.
    static func cpuSeconds(_ pid: pid_t) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the name: state is field 3, utime 14, stime 15 (1-based) → indexes 11, 12 here.
        let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Resident set size of a process, KiB.
    static func rss(_ pid: pid_t) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    /// Starts `quell` with the environment plus `extra`, output to `log`.
    static func spawn(_ path: String, _ args: [String], env extra: [String: String], log: String) throws -> pid_t {
        var env = ProcessInfo.processInfo.environment
        for (k, v) in extra { env[k] = v }
        return try spawnProcess(path, args, environment: env, outputPath: log, truncate: true)
    }
}

extension JobStore {
    func waitForWorkers() async throws {
        for _ in 0..<500 {
            if try await !stats(tenant: nil).workers.isEmpty { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw QuellError.invalid("the worker did not register")
    }
}
