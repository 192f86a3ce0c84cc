/// Every Redis key name Quell uses, made in one place. Quell's own names are
/// package access; an application's own keys come from `app(_:)`.
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
    package let base: String

    /// The key names under `prefix`.
    package init(prefix: String) {
        self.prefix = prefix
        self.base = "{\(prefix)}"
    }

    /// Hash: one job's fields.
    package func job(_ id: String) -> String { "\(base):job:\(id)" }
    /// List of queued job ids; enqueue LPUSHes, workers RPOP (FIFO).
    package func queue(_ name: String) -> String { "\(base):queue:\(name)" }
    /// Set of every queue name seen.
    package var queues: String { "\(base):queues" }
    /// The shard's guard key: `KEYS[1]` of every function call (see lib.lua),
    /// what Cluster routing hangs on. Never written.
    package var shard: String { "\(base):shard" }
    /// Sorted set: job id → due time (ms) of a delayed retry on `queue`.
    package func scheduled(_ queue: String) -> String { "\(base):scheduled:\(queue)" }
    /// List: ids a worker took with a blocking pop and has not started yet.
    package func processing(_ worker: String) -> String { "\(base):processing:\(worker)" }
    /// Sorted set of running, cancelling and pausing jobs → when the reaper should look (ms).
    package var active: String { "\(base):active" }
    /// Sorted set (score 0, ordered by id = time) of a tenant's jobs in one status.
    package func index(tenant: String, status: JobStatus) -> String { "\(base):idx:\(tenant):\(status.rawValue)" }
    /// Sorted set (score 0, by id) of all a tenant's jobs.
    package func allIndex(tenant: String) -> String { "\(base):idx:\(tenant):all" }
    /// Sorted set (score 0, by id) of a tenant's jobs that carried this dedupe key.
    package func keyIndex(tenant: String, key: String) -> String { "\(base):keyjobs:\(tenant):\(key)" }
    /// String: the id of the one non-terminal job holding this dedupe key.
    package func dedupe(tenant: String, key: String) -> String { "\(base):dedupe:\(tenant):\(key)" }
    /// Hash: jobs stored now per `<tenant>\u{1f}<status>`, and per
    /// `\u{1f}<status>` over all tenants (kept by every transition; `built`
    /// marks it complete). What stats read, whatever the tenants or depth.
    package var counts: String { "\(base):counts" }
    /// Hash: status → jobs that ever ended so (never decreases).
    package var finished: String { "\(base):finished" }
    /// Set of tenant names seen.
    package var tenants: String { "\(base):tenants" }
    /// Sorted set: cancelled job id → expiry (ms). Bounded: trimmed on every cancel.
    package var revoked: String { "\(base):revoked" }
    /// Stream of job events (one per status or progress change), capped.
    package var events: String { "\(base):events" }
    /// Pub/sub channel on which cancel requests are pushed (message = job id).
    package var cancelChannel: String { "\(base):cancel" }
    /// Pub/sub channel on which pause requests are pushed (message = job id).
    package var pauseChannel: String { "\(base):pause" }
    /// Sorted set: worker id → when its registration expires (ms).
    package var workers: String { "\(base):workers" }
    /// Hash: a worker's registration (queues, slots, busy, started_at, last_beat).
    package func worker(_ id: String) -> String { "\(base):worker:\(id)" }
    /// A key of the application's own: `{prefix}:app:<name>`, e.g.
    /// `keys.app("demo:synced:acme:inbox-1")`. It carries the same hash tag as
    /// Quell's keys (one Redis Cluster slot, so a handler may touch it together
    /// with them), and the `app:` segment keeps it clear of every name Quell
    /// itself uses. Run commands on it with `JobStore.redisCommand`.
    public func app(_ name: String) -> String { "\(base):app:\(name)" }
    /// Hash: `run_id` of the Redis last seen and when verdicts resume (written by
    /// `liveness.lua` on every connect; see JobStore+Liveness).
    package var liveness: String { "\(base):liveness" }
}
