import Foundation
import Glibc
import QuellSystem

/// A child process started with posix_spawn. Foundation's `Process.waitUntilExit()`
/// can hang on Linux when called from a test's task, so tests use this instead.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    private var exitStatus: Int32?
    private let lock = NSLock()

    /// Starts `path` with `arguments`. Standard output and error go to
    /// `outputPath` and `errorPath` when given (error joins output when only
    /// `outputPath` is), else they are inherited; standard input is /dev/null.
    public init(_ path: String, _ arguments: [String], environment: [String: String]? = nil, outputPath: String? = nil,
         errorPath: String? = nil) throws {
        pid = try spawnProcess(path, arguments, environment: environment ?? ProcessInfo.processInfo.environment,
                               outputPath: outputPath, errorPath: errorPath)
    }

    public func signal(_ sig: Int32) { kill(pid, sig) }

    /// Waits for exit up to `timeout` seconds, blocking the calling thread;
    /// returns the exit code (128+signal for a signal), or nil if still running.
    @discardableResult
    public func wait(timeout: Double = 10) -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let exitStatus { return exitStatus }
        let end = Date().addingTimeInterval(timeout)
        while true {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid {
                let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                exitStatus = code
                return code
            }
            if r < 0 { return nil }
            if Date() >= end { return nil }
            usleep(2_000)
        }
    }

    /// `wait(timeout:)` on a thread of its own, so the cooperative pool never blocks.
    public func exitCode(timeout: Double = 30) async -> Int32? {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: self.wait(timeout: timeout)) }
            thread.start()
        }
    }

    public var isRunning: Bool { wait(timeout: 0) == nil }

    /// SIGTERM, then SIGKILL if it has not exited within `grace` seconds.
    public func stop(grace: Double = 5) {
        guard isRunning else { return }
        signal(SIGTERM)
        if wait(timeout: grace) == nil {
            signal(SIGKILL)
            wait(timeout: 5)
        }
    }
}
