import Foundation
import Glibc
import Quell
import QuellSystem

// Shared by every test target (the QuellTestSupport target).

/// The Redis the tests run against: `QUELL_TEST_REDIS_URL` (set by
/// scripts/test), or else a private redis-server started once per test process.
public enum TestRedis {
    public static let url: RedisURL = {
        if let text = ProcessInfo.processInfo.environment["QUELL_TEST_REDIS_URL"], !text.isEmpty {
            return try! RedisURL(text)
        }
        let server = try! RedisServerProcess.start()
        sharedServer.withLock { $0 = server }
        // Stop it when the test process exits, or it outlives the run.
        atexit { TestRedis.stopSharedServer() }
        return server.url
    }()

    private static func stopSharedServer() {
        sharedServer.withLock { server in
            server?.stop()
            server = nil
        }
    }

    private static let sharedServer = LockedBox<RedisServerProcess?>(nil)

    /// A key prefix no other test uses, so tests run in parallel on one Redis.
    public static func prefix(_ name: String) -> String {
        "t-\(name)-\(UInt32.random(in: 0...UInt32.max))"
    }

    package static func client(_ name: String = "test") -> RedisClient {
        RedisClient(url: url, options: RedisOptions(connectTimeout: 2, commandTimeout: 5, clientName: name))
    }
}

/// A tiny lock-protected box for test state shared across threads.
public final class LockedBox<Value: Sendable>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    public init(_ value: Value) { self.value = value }
    public func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock(); defer { lock.unlock() }
        return body(&value)
    }
    public var current: Value { withLock { $0 } }
}

/// A port nothing listens on right now (`QuellSystem.freeLoopbackPort`).
public func freePort() -> Int {
    guard let port = freeLoopbackPort() else { fatalError("no free port on 127.0.0.1") }
    return port
}

/// A redis-server of a test's own, which the test may stop and start again
/// on the same port (to test reconnects).
public final class RedisServerProcess: @unchecked Sendable {
    public let port: Int
    public let directory: String
    private var process: ChildProcess?
    public var url: RedisURL { RedisURL(endpoint: .tcp(host: "127.0.0.1", port: port)) }

    private init(port: Int, directory: String) {
        self.port = port
        self.directory = directory
    }

    public static var binary: String {
        ProcessInfo.processInfo.environment["QUELL_TEST_REDIS_SERVER"] ?? "/usr/bin/redis-server"
    }

    public static func start(extraArguments: [String] = []) throws -> RedisServerProcess {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("quell-redis-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let server = RedisServerProcess(port: freePort(), directory: dir)
        try server.start(extraArguments: extraArguments)
        return server
    }

    public func start(extraArguments: [String] = []) throws {
        process = try ChildProcess(Self.binary, [
            "--port", String(port), "--bind", "127.0.0.1", "--dir", directory,
            "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--logfile", directory + "/redis.log"] + extraArguments,
            // Not the test process's own output: `swift test` reads that pipe
            // until every holder closes it, and would wait for this server.
            outputPath: directory + "/output.log")
        // Wait until it answers PING.
        let end = Date().addingTimeInterval(60)  // a hang guard: a loaded machine starts it slowly
        while Date() < end {
            // It exited (its port taken, say): no use waiting.
            if process?.wait(timeout: 0) != nil { break }
            if let c = try? RedisConnection(url: url, options: RedisOptions(connectTimeout: 0.2)),
               (try? c.send(RedisCommand("PING"))) == .status("PONG") {
                return
            }
            usleep(20_000)
        }
        throw RedisError.connectionRefused("test redis-server on port \(port) did not start")
    }

    public func stop() {
        process?.stop()
        process = nil
    }

    /// Sends `sig` to the server (SIGSTOP/SIGCONT for an outage that keeps
    /// its connections open).
    public func signal(_ sig: Int32) {
        process?.signal(sig)
    }

    /// `kill -9`, and waits for the process to be gone; `start` brings it
    /// back on the same port and directory (with `--appendonly yes`, from
    /// its append-only file).
    public func kill9() {
        process?.signal(SIGKILL)
        process?.wait(timeout: 30)
        process = nil
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

extension RedisServerProcess {
    /// `start()` on a thread of its own (it waits for PING with sleeps), for
    /// a test that needs a server nobody else touches (e.g. no `SCRIPT FLUSH`
    /// from another suite while it counts commands).
    public static func startPrivate() async throws -> RedisServerProcess {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do { continuation.resume(returning: try RedisServerProcess.start()) } catch { continuation.resume(throwing: error) }
            }
            thread.start()
        }
    }
}

extension RedisServerProcess {
    /// `stop()` (which waits for the process) on a thread of its own.
    public func stopPrivate() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                self.stop()
                continuation.resume()
            }
            thread.start()
        }
    }
}
