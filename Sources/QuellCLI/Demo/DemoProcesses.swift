import FoundationEssentials
import Glibc
import Quell
import QuellSystem
import Synchronization

/// A child process `quell demo` started (a worker, the private redis-server),
/// in a process group of its own: a Ctrl-C at the terminal reaches only the
/// demo, which then stops its children in order (workers before Redis).
/// Waiting happens on threads of our own, never on Swift's cooperative pool.
final class DemoChild: Sendable {
    /// `worker 1`, `redis-server`.
    let name: String
    let pid: pid_t
    let logPath: String
    /// The exit code once reaped (128 + signal for a signal).
    private let exitStatus = Mutex<Int32?>(nil)

    init(name: String, path: String, arguments: [String], environment: [String: String], logPath: String) throws(SpawnError) {
        self.name = name
        self.logPath = logPath
        pid = try spawnProcess(path, arguments, environment: environment, outputPath: logPath, truncate: true,
                               ownProcessGroup: true)
    }

    /// The exit code if it has exited (reaping it), else nil. Never blocks.
    var exitCode: Int32? {
        exitStatus.withLock { status in
            if let status { return status }
            var raw: Int32 = 0
            let r = waitpid(pid, &raw, WNOHANG)
            if r == pid {
                status = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
            } else if r < 0 && errno == ECHILD {
                status = -1  // not ours to wait for (cannot happen: we started it)
            }
            return status
        }
    }

    var hasExited: Bool { exitCode != nil }

    /// Sends `signal` unless it has been reaped (its pid may have been reused since).
    func send(_ signal: Int32) {
        exitStatus.withLock { status in
            if status == nil { kill(pid, signal) }
        }
    }

    /// Waits until it exits, at most `seconds`, or until `giveUp` says so;
    /// returns the exit code, or nil if it is still running.
    func waitForExit(seconds: Double, giveUp: @escaping @Sendable () -> Bool = { false }) async -> Int32? {
        await onThreadOfItsOwn { [self] in
            let end = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
            while true {
                if let code = exitCode { return code }
                if ContinuousClock.now >= end || giveUp() { return nil }
                usleep(5_000)
            }
        }
    }

    /// SIGTERM, up to `grace` seconds to exit (less when `hurry` turns true),
    /// then SIGKILL. Says how it ended.
    func stop(grace: Double, hurry: @escaping @Sendable () -> Bool) async -> String {
        if let code = exitCode { return "had exited (\(Self.describe(code)))" }
        send(SIGTERM)
        if let code = await waitForExit(seconds: grace, giveUp: hurry) { return "stopped (\(Self.describe(code)))" }
        send(SIGKILL)
        if let code = await waitForExit(seconds: 30) { return "killed with SIGKILL (\(Self.describe(code)))" }
        return "did not exit even after SIGKILL"
    }

    static func describe(_ code: Int32) -> String {
        code > 128 ? "signal \(code - 128)" : "exit \(code)"
    }

    /// The last `count` lines of its log.
    func logTail(_ count: Int = 8) -> [String] {
        guard let data = FileManager.default.contents(atPath: logPath) else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").suffix(count).map(String.init)
    }
}

/// Runs blocking work on a thread of its own and hands back its result.
func onThreadOfItsOwn<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        OSThread.start { continuation.resume(returning: body()) }
    }
}

enum DemoProcesses {
    /// The running executable (for the child `quell worker`s).
    static func ownExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if n > 0 { return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        return CommandLine.arguments[0]
    }

    /// `name` on `PATH` (or in the usual places), or nil.
    static func find(_ name: String, environment: [String: String]) -> String? {
        let path = environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin", "/usr/sbin", "/bin"]
        for directory in directories where !directory.isEmpty {
            let candidate = directory + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Starts a private redis-server in `directory` on a free port (no
    /// snapshots, no AOF) and waits until it answers PING. A port taken in
    /// the meantime is retried on another.
    static func startRedis(directory: String, environment: [String: String],
                           stopped: @escaping @Sendable () -> Bool) async throws(DemoFailure) -> (DemoChild, RedisURL) {
        guard let binary = find("redis-server", environment: environment) else {
            throw DemoFailure("redis-server is not installed (apt-get install redis-server), or pass --redis URL", exitCode: 3)
        }
        var lastLog: [String] = []
        for attempt in 1...5 {
            guard let port = freeLoopbackPort() else { throw DemoFailure("no free port for redis-server", exitCode: 3) }
            let child: DemoChild
            do {
                child = try DemoChild(name: "redis-server", path: binary, arguments: [
                    "--port", String(port), "--bind", "127.0.0.1", "--dir", directory,
                    "--save", "", "--appendonly", "no", "--daemonize", "no",
                    "--logfile", "\(directory)/redis-\(attempt).log",
                ], environment: environment, logPath: "\(directory)/redis-\(attempt).out")
            } catch {
                throw DemoFailure("cannot start redis-server: \(error)", exitCode: 3)
            }
            let url = RedisURL(endpoint: .tcp(host: "127.0.0.1", port: port))
            // Bounded only so a hung start ends the demo; it answers in milliseconds.
            let ready = await onThreadOfItsOwn { () -> Bool in
                let end = ContinuousClock.now + .seconds(30)
                while ContinuousClock.now < end && !child.hasExited && !stopped() {
                    if let connection = try? RedisConnection(url: url, options: RedisOptions(connectTimeout: 0.5, commandTimeout: 2)),
                       (try? connection.send(RedisCommand("PING"))) == .status("PONG") {
                        return true
                    }
                    usleep(20_000)
                }
                return false
            }
            if ready { return (child, url) }
            _ = await child.stop(grace: 5, hurry: { false })
            lastLog = (FileManager.default.contents(atPath: "\(directory)/redis-\(attempt).log")
                .map { String(decoding: $0, as: UTF8.self) } ?? "").split(separator: "\n").suffix(5).map(String.init)
            if stopped() || !lastLog.contains(where: { $0.contains("Address already in use") }) { break }
        }
        throw DemoFailure("redis-server did not start" + (lastLog.isEmpty ? "" : ":\n  " + lastLog.joined(separator: "\n  ")),
                          exitCode: 3)
    }
}

/// Why the demo could not go on, and its exit code (1, or 2 usage, 3 Redis unreachable).
struct DemoFailure: Error, CustomStringConvertible {
    var description: String
    var exitCode: Int32

    init(_ description: String, exitCode: Int32 = 1) {
        self.description = description
        self.exitCode = exitCode
    }
}

/// Ctrl-C, SIGTERM or SIGHUP (or `q` on the monitor): the first asks the demo
/// to stop everything it started, in order; a second one hurries that
/// (children get SIGKILL instead of their grace).
final class DemoStop: Sendable {
    private struct State {
        var requests = 0
        var signal: Int32?
        var handlers: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())

    var requested: Bool { state.withLock { $0.requests > 0 } }
    var hurried: Bool { state.withLock { $0.requests > 1 } }
    /// The exit status after a stop by signal: 128 + the first signal.
    var exitCode: Int32 { state.withLock { 128 + ($0.signal ?? SIGINT) } }

    func request(signal: Int32) {
        let handlers = state.withLock { s -> [@Sendable () -> Void] in
            s.requests += 1
            if s.signal == nil { s.signal = signal }
            return s.requests == 1 ? s.handlers : []
        }
        for handler in handlers { handler() }
    }

    /// Runs `handler` on the first request (at once if there was one).
    func onRequest(_ handler: @escaping @Sendable () -> Void) {
        let now = state.withLock { s -> Bool in
            if s.requests > 0 { return true }
            s.handlers.append(handler)
            return false
        }
        if now { handler() }
    }
}
