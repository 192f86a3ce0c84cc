/// A failure talking to Redis. Each case says what the caller may assume.
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL could not be parsed; the message says which part is wrong.
    case invalidURL(String)
    /// No connection could be made (refused, unreachable, unknown host, connect
    /// timeout). Nothing was sent, so the command was not applied.
    case connectionRefused(String)
    /// A reply did not arrive within the command timeout. The command may have
    /// been applied; the connection is dropped.
    case timeout(String)
    /// The connection dropped after the command was (possibly) written. The
    /// command may have been applied: it is never retried silently.
    case connectionLost(String)
    /// Redis answered with an error reply (`ERR …`, `NOSCRIPT …`, `WRONGTYPE …`).
    case server(String)
    /// A reply had a shape the caller did not expect, or the stream was corrupt.
    case protocolError(String)
    /// The client was closed.
    case closed

    /// The failure in one line, e.g. `cannot connect to Redis: …`.
    public var description: String {
        switch self {
        case .invalidURL(let m): return "invalid Redis URL: \(m)"
        case .connectionRefused(let m): return "cannot connect to Redis: \(m)"
        case .timeout(let m): return "Redis timeout: \(m)"
        case .connectionLost(let m): return "Redis connection lost: \(m)"
        case .server(let m): return "Redis error: \(m)"
        case .protocolError(let m): return "Redis protocol error: \(m)"
        case .closed: return "Redis client closed"
        }
    }

    /// True when the failure means Redis is unreachable or not serving right
    /// now (as opposed to a bad command): callers answer 503 or retry with
    /// backoff. Error replies that only say "not now" (see
    /// `transientErrorCodes`) count as unavailable: an outcome written while
    /// Redis loads its data after a restart must be retried, not dropped.
    public var isUnavailable: Bool {
        switch self {
        case .connectionRefused, .timeout, .connectionLost, .closed: return true
        case .server(let message): return Self.isTransient(message)
        case .invalidURL, .protocolError: return false
        }
    }

    /// Error reply codes meaning "Redis cannot serve this now, the command was
    /// not applied, try again": loading after a restart, a script running too
    /// long, a replica without its master, a cluster resharding or failing over.
    package static let transientErrorCodes: Set<Substring> = [
        "LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "READONLY",
    ]

    /// True when an error reply's code (its first word) is one of `transientErrorCodes`.
    package static func isTransient(_ message: String) -> Bool {
        let code = message.prefix { $0 != " " }
        return transientErrorCodes.contains(code)
    }
}
