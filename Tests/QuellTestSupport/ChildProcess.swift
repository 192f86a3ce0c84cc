import Foundation
import Glibc

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
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let outputPath {
            posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            if let errorPath {
                posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            } else {
                posix_spawn_file_actions_adddup2(&actions, 1, 2)
            }
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // Inherit nothing else: a child holding a copy of a test's socket
        // keeps that connection open after the test closes it. (glibc's
        // addclosefrom_np is not visible from Swift; close what is open now.)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            if let fd = Int32(name), fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
        }
        let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let argv = [path] + arguments
        var cArgs = argv.map { strdup($0) } + [nil]
        var cEnv = env.map { strdup($0) } + [nil]
        defer {
            cArgs.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        // Threads of Swift's pool (and Dispatch) block signals; a child inherits
        // that mask and would ignore SIGTERM. Give it an empty mask and default handlers.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var all = sigset_t()
        sigfillset(&all)
        sigdelset(&all, SIGKILL)
        sigdelset(&all, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var child: pid_t = 0
        let rc = posix_spawn(&child, path, &actions, &attributes, &cArgs, &cEnv)
        guard rc == 0 else {
            throw NSError(domain: "ChildProcess", code: Int(rc),
                          userInfo: [NSLocalizedDescriptionKey: "posix_spawn \(path): \(String(cString: strerror(rc)))"])
        }
        pid = child
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
