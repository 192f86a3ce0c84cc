import QuellTestSupport
import Foundation
import Glibc
import Testing

/// Every curl example in README.md (the block between `<!-- tour:begin -->`
/// and `<!-- tour:end -->`) is run, as written, against a live `quell api`
/// and `quell worker`; each example's answer is checked.
@Suite struct ReadmeTourTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The shell code of the tour block.
    static func tour() throws -> String {
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        guard let begin = readme.range(of: "<!-- tour:begin -->"), let end = readme.range(of: "<!-- tour:end -->"),
              begin.upperBound < end.lowerBound else { throw TourMissing() }
        var code = ""
        var inside = false
        for line in readme[begin.upperBound..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") { inside.toggle(); continue }
            if inside { code += line + "\n" }
        }
        return code
    }

    @Test func everyCurlExampleRunsAgainstALiveAPI() async throws {
        let binary = try QuellBinary.require()
        let script = try Self.tour()
        let curls = script.split(separator: "\n").filter { $0.contains("curl ") }
        #expect(curls.count >= 10, "the tour shows the API: \(curls.count) curl lines")
        try #require(script.contains("http://127.0.0.1:8080"), "the tour talks to the API's default address")

        let prefix = TestRedis.prefix("readme-tour")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quell-tour-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("QUELL_") }
        env["QUELL_REDIS_URL"] = TestRedis.url.description
        env["QUELL_PREFIX"] = prefix
        env["QUELL_TOKENS"] = "tour-token=acme"
        let worker = try ChildProcess(binary, ["worker", "--concurrency", "4", "--heartbeat", "0.5"], environment: env,
                                      outputPath: directory.appendingPathComponent("worker.log").path)
        let apiLog = directory.appendingPathComponent("api.log").path
        let api = try ChildProcess(binary, ["api", "--port", "0"], environment: env, outputPath: apiLog)
        defer {
            for p in [worker, api] where p.isRunning { p.signal(SIGKILL) }
            Thread { _ = worker.wait(timeout: 10); _ = api.wait(timeout: 10) }.start()
        }
        var port = 0
        let end = Date().addingTimeInterval(60)
        while port == 0 && Date() < end {
            let text = (try? String(contentsOfFile: apiLog, encoding: .utf8)) ?? ""
            if let r = text.range(of: "listening on http://127.0.0.1:") { port = Int(text[r.upperBound...].prefix { $0.isNumber }) ?? 0 }
            if port == 0 { try await Task.sleep(for: .milliseconds(20)) }
        }
        try #require(port > 0, "quell api did not start")

        // As written, but at the port this API got.
        let run = try await runProcess("/bin/bash", ["-c", script.replacingOccurrences(of: "127.0.0.1:8080", with: "127.0.0.1:\(port)")],
                                       environment: ["PATH": "/usr/bin:/bin"], timeout: 120)
        let out = run.stdout
        #expect(run.code == 0, "\(run)")
        // Each example's answer, in the order of the tour.
        let expected = [
            #""status":"queued""#,                 // the sync started
            #"{"error":{"code":"conflict""#,       // the second trigger, with the job holding the key
            #"{"jobs":[{"id":"#,                     // the key's jobs
            #""status":"cancelled""#,              // the cancel, waited for
            "event: job",                          // the event stream
            #"{"counts":{"#,                       // stats
            #"{"cleaned":0"#,                      // cleanup
            #"{"status":"ok"}"#,                   // health
            #"quell_jobs{status="cancelled"} 1"#,  // metrics
        ]
        var from = out.startIndex
        for marker in expected {
            guard let r = out.range(of: marker, range: from..<out.endIndex) else {
                Issue.record("missing, in order: \(marker)\n\(out)")
                return
            }
            from = r.upperBound
        }
    }
}

struct TourMissing: Error, CustomStringConvertible {
    var description: String { "README.md has no <!-- tour:begin --> … <!-- tour:end --> block" }
}
