/// Every Redis key name Quell uses, made in one place.
///
/// All keys share one hash tag — the prefix in braces, `{quell}:…` — so every
/// key a script touches lives in one Redis Cluster slot. (A per-queue tag is
/// not enough: the events stream, status indexes and dedupe keys span queues.)
/// Lua scripts build the same names from `base`; `Scripts/lib.lua` mirrors
/// the functions below and must change with them.
public struct Keys: Sendable, Equatable {
    /// The configured prefix, e.g. `quell`.
    public let prefix: String
    /// `{prefix}`: the hash-tagged base of every key.
    public let base: String

    public init(prefix: String) {
        self.prefix = prefix
        self.base = "{\(prefix)}"
    }

    /// Hash: one job's fields.
    public func job(_ id: String) -> String { "\(base):job:\(id)" }
    /// List of queued job ids; enqueue LPUSHes, workers RPOP (FIFO).
    public func queue(_ name: String) -> String { "\(base):queue:\(name)" }
    /// Set of every queue name seen.
    public var queues: String { "\(base):queues" }
    /// Sorted set: job id → due time (ms) of a delayed retry on `queue`.
    public func scheduled(_ queue: String) -> String { "\(base):scheduled:\(queue)" }
    /// List: ids a worker took with a blocking pop and has not started yet.
    public func processing(_ worker: String) -> String { "\(base):processing:\(worker)" }
    /// Sorted set of running and cancelling jobs → when the reaper should look (ms).
    public var active: String { "\(base):active" }
    /// Sorted set (score 0, ordered by id = time) of a tenant's jobs in one status.
    public func index(tenant: String, status: JobStatus) -> String { "\(base):idx:\(tenant):\(status.rawValue)" }
    /// Sorted set (score 0, by id) of all a tenant's jobs.
    public func allIndex(tenant: String) -> String { "\(base):idx:\(tenant):all" }
    /// Sorted set (score 0, by id) of a tenant's jobs that carried this dedupe key.
    public func keyIndex(tenant: String, key: String) -> String { "\(base):keyjobs:\(tenant):\(key)" }
    /// String: the id of the one non-terminal job holding this dedupe key.
    public func dedupe(tenant: String, key: String) -> String { "\(base):dedupe:\(tenant):\(key)" }
    /// Set of tenant names seen.
    public var tenants: String { "\(base):tenants" }
    /// Sorted set: cancelled job id → expiry (ms). Bounded: trimmed on every cancel.
    public var revoked: String { "\(base):revoked" }
    /// Stream of job events (one per status or progress change), capped.
    public var events: String { "\(base):events" }
    /// Pub/sub channel on which cancel requests are pushed (message = job id).
    public var cancelChannel: String { "\(base):cancel" }
    /// Sorted set: worker id → when its registration expires (ms).
    public var workers: String { "\(base):workers" }
    /// Hash: a worker's registration (queues, slots, busy, started_at, last_beat).
    public func worker(_ id: String) -> String { "\(base):worker:\(id)" }
    /// Hash: `run_id` of the Redis last seen and when verdicts resume (written by
    /// `resume.lua` on every connect; see JobStore+Liveness).
    public var liveness: String { "\(base):liveness" }
    /// Set: `demo.sync` output, the items synced for a source (see DemoTasks).
    public func demoSynced(tenant: String, source: String) -> String { "\(base):demo:synced:\(tenant):\(source)" }
}
