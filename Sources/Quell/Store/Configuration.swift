import FoundationEssentials
import Synchronization

/// How long a job may run: `clamp(base + perItem × total, min, max)` seconds,
/// recomputed when the handler reports a new total (DESIGN.md "Cancellation").
public struct TimeoutPolicy: Sendable, Equatable {
    /// Seconds allowed whatever the size (`QUELL_TIMEOUT_BASE_SECONDS`).
    public var base: Double
    /// Seconds more per item of the reported total (`QUELL_TIMEOUT_PER_ITEM_SECONDS`).
    public var perItem: Double
    /// The least a job is allowed (`QUELL_TIMEOUT_MIN_SECONDS`).
    public var minimum: Double
    /// The most a job is allowed (`QUELL_TIMEOUT_MAX_SECONDS`).
    public var maximum: Double

    /// A policy; the defaults are DESIGN.md's (300 s + 10 s per item, 300 s to 2 h).
    public init(base: Double = 300, perItem: Double = 10, minimum: Double = 300, maximum: Double = 7200) {
        self.base = base
        self.perItem = perItem
        self.minimum = minimum
        self.maximum = maximum
    }

    /// Seconds allowed for a job of `total` items.
    public func seconds(total: Int) -> Double {
        min(maximum, max(minimum, base + perItem * Double(max(0, total))))
    }
}

/// Settings shared by every Quell process. Each has an environment variable
/// (DESIGN.md "Configuration"); command-line flags override them.
public struct QuellConfiguration: Sendable, Equatable {
    /// Where Redis is (`QUELL_REDIS_URL`).
    public var redisURL: RedisURL
    /// The key prefix (`QUELL_PREFIX`): processes with the same prefix share jobs.
    public var prefix: String
    /// Seconds between a worker's heartbeats (`QUELL_HEARTBEAT_SECONDS`).
    public var heartbeatInterval: Double
    /// A heartbeat older than this many seconds means the worker is gone (`QUELL_STALE_SECONDS`).
    public var staleAfter: Double
    /// Seconds between reaper sweeps (`QUELL_REAPER_SECONDS`).
    public var reaperInterval: Double
    /// Seconds a shutting-down worker lets running jobs finish (`QUELL_SHUTDOWN_GRACE_SECONDS`).
    public var shutdownGrace: Double
    /// Seconds a cancelled, paused or overdue handler has to reach a
    /// checkpoint before its worker abandons it (`QUELL_CANCEL_GRACE_SECONDS`):
    /// the job is closed with reason `forced`, its key and slot freed.
    public var cancelGrace: Double
    /// How long a job may run.
    public var timeout: TimeoutPolicy
    /// Approximate cap of the events stream (`XADD MAXLEN ~`), in entries:
    /// an entry holds the events of one transition call (one for a single
    /// change, a batch for batched enqueues, starts and finishes).
    public var eventsMaxLength: Int
    /// How long a cancelled id stays in the revoked set.
    public var revokedTTL: Double
    /// How long a finished job is kept before the janitor deletes it.
    public var retention: Double
    /// Seconds a single enqueue may wait, at most, for the other producers
    /// it expects to share its call (`QUELL_ENQUEUE_LINGER_MS`, in ms; 0:
    /// never waits). Only under concurrency: a request that finds no call
    /// in flight is sent at once. See `JobStore.enqueue(_:)`.
    public var enqueueLinger: Double

    /// A configuration; the defaults are DESIGN.md's ("Configuration").
    public init(redisURL: RedisURL = RedisURL(endpoint: .tcp(host: "127.0.0.1", port: 6379)),
                prefix: String = "quell", heartbeatInterval: Double = 2, staleAfter: Double = 10,
                reaperInterval: Double = 1, shutdownGrace: Double = 30, timeout: TimeoutPolicy = TimeoutPolicy(),
                eventsMaxLength: Int = 100_000, revokedTTL: Double = 86_400, retention: Double = 7 * 86_400,
                cancelGrace: Double = 30, enqueueLinger: Double = 0.0005) {
        self.redisURL = redisURL
        self.prefix = prefix
        self.heartbeatInterval = heartbeatInterval
        self.staleAfter = staleAfter
        self.reaperInterval = reaperInterval
        self.shutdownGrace = shutdownGrace
        self.cancelGrace = cancelGrace
        self.timeout = timeout
        self.eventsMaxLength = eventsMaxLength
        self.revokedTTL = revokedTTL
        self.retention = retention
        self.enqueueLinger = enqueueLinger
    }

    /// The key names under `prefix`.
    public var keys: Keys { Keys(prefix: prefix) }

    /// Reads the store's `QUELL_*` variables over the defaults (`QuellSettings.read`,
    /// the one reader of every setting); a bad value is a clear error.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> QuellConfiguration {
        try QuellSettings.read(env).store
    }

    /// Names that become part of key names (prefix, tenant, queue): letters,
    /// digits, `.`, `_`, `-`, 1–64 characters.
    public static func validateName(_ name: String, what: String) throws {
        let ok = !name.isEmpty && name.utf8.count <= 64 && name.utf8.allSatisfy {
            ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 46 || $0 == 95 || $0 == 45
        }
        if !ok { throw QuellError.invalid("\(what) must be 1-64 letters, digits, '.', '_' or '-', got '\(name.prefix(80))'") }
    }
}

/// The time source of the store and the worker's timing decisions, injectable
/// so tests of staleness and deadlines are deterministic.
public protocol QuellClock: Sendable {
    /// The current time.
    func now() -> Date
}

/// Wall-clock time.
public struct SystemClock: QuellClock {
    /// The system clock.
    public init() {}
    /// `Date()`.
    public func now() -> Date { Date() }
}

/// A clock tests move by hand.
public final class ManualClock: QuellClock {
    private let current: Mutex<Date>
    /// A clock standing at `start`.
    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = Mutex(start) }
    /// Where the clock stands.
    public func now() -> Date { current.withLock { $0 } }
    /// Moves the clock forward (or back, for a negative `seconds`).
    public func advance(by seconds: Double) { current.withLock { $0 += seconds } }
}

extension Date {
    /// Milliseconds since the epoch, as scripts take times.
    var milliseconds: Int { Int((timeIntervalSince1970 * 1000).rounded(.down)) }
}
