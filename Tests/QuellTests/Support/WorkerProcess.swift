import QuellTestSupport
import Foundation
import Glibc
@testable import Quell

/// The `quell` binary built beside the test bundle.
var quellBinary: String {
    if let path = ProcessInfo.processInfo.environment["QUELL_BINARY"] { return path }
    return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("quell").path
}

/// A real `quell worker` process for tests: its own prefix, fast timings.
final class WorkerProcess: @unchecked Sendable {
    let process: ChildProcess
    let logPath: String

    init(store: JobStore, concurrency: Int = 4, heartbeat: Double = 0.5, stale: Double = 2, reaper: Double = 0.2,
         grace: Double = 5, environment extra: [String: String] = [:]) throws {
        logPath = FileManager.default.temporaryDirectory.appendingPathComponent("quell-worker-\(UUID().uuidString).log").path
        var env = ProcessInfo.processInfo.environment
        env["QUELL_REDIS_URL"] = store.configuration.redisURL.description
        env["QUELL_PREFIX"] = store.configuration.prefix
        env["QUELL_REAPER_SECONDS"] = String(reaper)
        env["QUELL_STALE_SECONDS"] = String(stale)
        for (k, v) in extra { env[k] = v }
        process = try ChildProcess(quellBinary, ["worker", "--concurrency", String(concurrency), "--heartbeat", String(heartbeat),
                                                 "--grace", String(grace)],
                                   environment: env, outputPath: logPath)
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    deinit {
        // Off the cooperative pool: deinit may run on one of its two threads.
        let process = self.process, logPath = self.logPath
        process.signal(SIGKILL)
        Thread {
            process.wait(timeout: 5)
            try? FileManager.default.removeItem(atPath: logPath)
        }.start()
    }
}

extension JobStore {
    /// Polls a job until `condition` holds; fails the test after `seconds`.
    func waitForJob(_ id: String, _ seconds: Double = 60, until condition: @Sendable (Job) -> Bool) async throws -> Job {
        let end = Date().addingTimeInterval(seconds)
        while true {
            let job = try await self.job(id: id, tenant: nil)
            if condition(job) { return job }
            if Date() > end {
                throw QuellError.invalid("job \(id) still \(job.status.rawValue) (v\(job.version)) after \(seconds)s")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Waits until at least `n` workers are registered.
    func waitForWorkers(_ n: Int, _ seconds: Double = 60) async throws {
        let end = Date().addingTimeInterval(seconds)
        while try await stats(tenant: nil).workers.count < n {
            if Date() > end { throw QuellError.invalid("fewer than \(n) workers after \(seconds)s") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
