import Foundation
import Glibc
import Quell

/// Runs blocking work on a thread of its own (never the cooperative pool).
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
        thread.start()
    }
}

/// Runs blocking, non-throwing work on a thread of its own.
public func onOwnThreadQuietly(_ body: @escaping @Sendable () -> Void) async {
    _ = try? await onOwnThread { body() }
}

/// Makes a private redis-server answer `-BUSY` to everything, as it does while
/// a script runs too long, until `release()`: a real transient refusal from a
/// real Redis (LOADING after a restart cannot be held open on demand).
public final class BusyRedis: Sendable {
    private let url: RedisURL

    private init(url: RedisURL) { self.url = url }

    /// Starts a looping script on a connection of its own and returns once
    /// another connection is refused with `BUSY`.
    public static func hold(_ server: RedisServerProcess) async throws -> BusyRedis {
        let url = server.url
        try await onOwnThread {
            let c = try RedisConnection(url: url, options: RedisOptions(connectTimeout: 2, commandTimeout: 5))
            _ = try c.send(RedisCommand("CONFIG", "SET", "busy-reply-threshold", "10"))
        }
        let looping = Thread {
            // Blocks until SCRIPT KILL; then Redis answers this call with an error.
            if let c = try? RedisConnection(url: url, options: RedisOptions(connectTimeout: 2, commandTimeout: 600)) {
                _ = try? c.send(RedisCommand("EVAL", "local i = 0 while true do i = i + 1 end", 0))
            }
        }
        looping.start()
        try await onOwnThread {
            let probe = try RedisConnection(url: url, options: RedisOptions(connectTimeout: 2, commandTimeout: 5))
            for _ in 0..<2_000 {
                if case .error(let m) = try probe.send(RedisCommand("PING")), m.hasPrefix("BUSY") { return }
                usleep(5_000)
            }
            throw RedisError.protocolError("redis-server never became BUSY")
        }
        return BusyRedis(url: url)
    }

    /// Kills the script; returns once Redis answers PING again.
    public func release() async throws {
        let url = self.url
        try await onOwnThread {
            let c = try RedisConnection(url: url, options: RedisOptions(connectTimeout: 2, commandTimeout: 5))
            for _ in 0..<2_000 {
                _ = try c.send(RedisCommand("SCRIPT", "KILL"))
                if try c.send(RedisCommand("PING")) == .status("PONG") { return }
                usleep(5_000)
            }
            throw RedisError.protocolError("redis-server stayed BUSY")
        }
    }
}
