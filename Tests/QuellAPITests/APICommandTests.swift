import QuellTestSupport
import Foundation
import Glibc
import Quell
import Testing

/// The `quell api` executable: refuses to start without tokens, serves, reaps, stops on SIGTERM/SIGINT.
@Suite struct APICommandTests {
    /// The `quell` binary SwiftPM built beside this test bundle.
    static var binary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("quell").path
    }

    /// A clean environment: nothing of the caller's QUELL_* settings leaks in.
    static func environment(_ extra: [String: String]) -> [String: String] {
        ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()].merging(extra) { $1 }
    }

    static func output(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    @Test func refusesToStartWithoutTokens() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build the quell executable first")
        let log = NSTemporaryDirectory() + "quell-api-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        let child = try ChildProcess(Self.binary, ["api", "--port", "0"], environment: Self.environment([:]), outputPath: log)
        let code = await onThreadValue { child.wait(timeout: 10) }
        #expect(code == 2)
        #expect(Self.output(log).contains("QUELL_TOKENS"))
        #expect(Self.output(log).contains("--no-auth"))
    }

    /// `QUELL_RETENTION_SECONDS` takes effect in `quell api` too (its janitor).
    @Test func honoursTheRetentionSetting() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build the quell executable first")
        var config = QuellConfiguration(redisURL: TestRedis.url, prefix: TestRedis.prefix("cmd-retention"))
        config.staleAfter = 10
        let store = JobStore(redis: TestRedis.client("cmd-retention"), configuration: config)
        let job = try await store.enqueue(EnqueueRequest(type: "t"))
        let started = try #require(try await store.start(worker: "w", leasePrefix: "w/", queues: ["default"], count: 1).started.first)
        _ = try await store.finish([FinishReport(id: job.id, lease: started.lease, status: .completed)])
        let finished = try await store.job(id: job.id, tenant: nil).completedAt ?? Date()
        while Date().timeIntervalSince(finished) <= 1.2 { try await Task.sleep(for: .milliseconds(20)) }
        let log = NSTemporaryDirectory() + "quell-api-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        let child = try ChildProcess(Self.binary, ["api", "--port", "0", "--no-auth", "--redis", TestRedis.url.description,
                                                   "--prefix", config.prefix],
                                     environment: Self.environment(["QUELL_RETENTION_SECONDS": "1"]), outputPath: log)
        defer { if child.isRunning { child.signal(SIGKILL); _ = child.wait(timeout: 5) } }
        let gone = await eventually(timeout: .seconds(60)) {
            try await !store.jobExists(job.id)
        }
        #expect(gone, "\(Self.output(log))")
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func servesAndStopsOnSignal(_ signal: Int32) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build the quell executable first")
        let log = NSTemporaryDirectory() + "quell-api-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        let prefix = TestRedis.prefix("cmd")
        let child = try ChildProcess(Self.binary, ["api", "--port", "0", "--redis", TestRedis.url.description, "--prefix", prefix,
                                                   "--stale-after", "0.3"],
                                     environment: Self.environment(["QUELL_TOKENS": "tok-c=acme", "QUELL_REAPER_SECONDS": "0.1"]),
                                     outputPath: log)
        defer { if child.isRunning { child.signal(SIGKILL); _ = child.wait(timeout: 5) } }
        var port = 0
        _ = await eventually {
            let text = Self.output(log)
            guard let r = text.range(of: "listening on http://127.0.0.1:") else { return false }
            port = Int(text[r.upperBound...].prefix { $0.isNumber }) ?? 0
            return port > 0
        }
        try #require(port > 0, "no listening line: \(Self.output(log))")
        let bytes = requestText("POST", "/v1/jobs", headers: ["Authorization: Bearer tok-c", "Content-Type: application/json"],
                                body: #"{"type":"demo.noop"}"#)
        let listeningPort = port
        let r = try await onThread {
            let c = try TestClient(port: listeningPort)
            c.send(bytes)
            return try c.readResponse()
        }
        #expect(r.status == 202 && r.json["tenant"] == .string("acme"))

        // The reaper runs inside the api: a job whose worker vanished is requeued.
        let store = JobStore(redis: TestRedis.client("cmd"),
                             configuration: QuellConfiguration(redisURL: TestRedis.url, prefix: prefix, staleAfter: 0.3))
        defer { store.close() }
        let started = try await store.start(worker: "vanished", leasePrefix: "l#", queues: ["default"], count: 1).started
        let id = try #require(started.first?.job.id)
        #expect(await eventually { try await store.job(id: id, tenant: nil).status == .queued })
        #expect(Self.output(log).contains("reaper: requeued \(id)"))

        child.signal(signal)
        let code = await onThreadValue { child.wait(timeout: 10) }
        #expect(code == 0, "\(Self.output(log))")
        #expect(Self.output(log).contains("quell api: stopped"))
    }
}

/// Runs blocking work on a thread of its own and returns its value.
func onThreadValue<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: body()) }.start()
    }
}
