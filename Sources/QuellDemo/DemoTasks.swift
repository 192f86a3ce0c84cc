import Dispatch
import FoundationEssentials
import Glibc
import Quell

/// The demo tasks the stock `quell worker` carries (DESIGN.md "Demo tasks"),
/// in a module of their own: the `Quell` library carries no demo code. They
/// use only the library's public API, their own Redis writes included
/// (`Keys.app(_:)`, `JobStore.redisCommand`).
public enum DemoTasks {
    /// `demo.sync` parameters; all optional, defaults as in DESIGN.md.
    public struct SyncParams: Decodable, Sendable {
        /// Items the simulated source holds.
        public var total: Int = 200
        /// Items per batch ("conversation"); a checkpoint between batches.
        public var batch: Int = 10
        /// Milliseconds of simulated work per item.
        public var delayMs: Double = 5
        /// `full`, or `incremental`: stop at the first item already synced.
        public var mode: String = "full"
        /// The share of items that fail (deterministically by name), 0…1.
        public var failRate: Double = 0
        /// The source's name: its items and where they are written.
        public var source: String = "inbox-1"

        enum CodingKeys: String, CodingKey {
            case total, batch, delayMs = "delay_ms", mode, failRate = "fail_rate", source
        }

        /// Decodes and validates (`total` 0…1000000, `batch` ≥ 1, `fail_rate` 0…1, …).
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            total = try c.decodeIfPresent(Int.self, forKey: .total) ?? 200
            batch = try c.decodeIfPresent(Int.self, forKey: .batch) ?? 10
            delayMs = try c.decodeIfPresent(Double.self, forKey: .delayMs) ?? 5
            mode = try c.decodeIfPresent(String.self, forKey: .mode) ?? "full"
            failRate = try c.decodeIfPresent(Double.self, forKey: .failRate) ?? 0
            source = try c.decodeIfPresent(String.self, forKey: .source) ?? "inbox-1"
            guard total >= 0, total <= 1_000_000 else { throw DecodingError.dataCorruptedError(forKey: .total, in: c, debugDescription: "total must be 0…1000000") }
            guard batch >= 1 else { throw DecodingError.dataCorruptedError(forKey: .batch, in: c, debugDescription: "batch must be ≥ 1") }
            guard mode == "full" || mode == "incremental" else { throw DecodingError.dataCorruptedError(forKey: .mode, in: c, debugDescription: "mode must be full or incremental") }
            guard (0...1).contains(failRate) else { throw DecodingError.dataCorruptedError(forKey: .failRate, in: c, debugDescription: "fail_rate must be 0…1") }
            guard delayMs >= 0, delayMs <= 60_000 else { throw DecodingError.dataCorruptedError(forKey: .delayMs, in: c, debugDescription: "delay_ms must be 0…60000") }
            try QuellConfiguration.validateName(source, what: "source")
        }
    }

    /// `demo.sleep` parameters.
    public struct SleepParams: Decodable, Sendable {
        /// How long to sleep, checking for cancellation every 10 ms.
        public var ms: Double = 1000
        /// Record each execution (start and end, worker, time) in Redis, so
        /// tests can prove a job never runs on two workers at once.
        public var log = false
        enum CodingKeys: String, CodingKey { case ms, log }
        /// Decodes; both fields are optional.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            ms = try c.decodeIfPresent(Double.self, forKey: .ms) ?? 1000
            log = try c.decodeIfPresent(Bool.self, forKey: .log) ?? false
        }
    }

    /// `demo.fail` parameters.
    public struct FailParams: Decodable, Sendable {
        /// The error the handler throws.
        public var message: String = "demo failure"
        enum CodingKeys: String, CodingKey { case message }
        /// Decodes; `message` is optional.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            message = try c.decodeIfPresent(String.self, forKey: .message) ?? "demo failure"
        }
    }

    struct DemoFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// The execution log of a job run by `demo.sleep` with `"log": true`: a
    /// list of entries `KIND WORKER MICROSECONDS LEASE`, one `start` per run
    /// (the time of its first passed `checkpoint()`) and one `end` (it
    /// completed) or `stop` (a checkpoint or its sleep threw) with the time
    /// of its *last passed* checkpoint. A run's entries share its lease. So
    /// `[start, end/stop]` is the span in which the run did work believing
    /// its lease valid: what scripts/chaos compares across runs of one job.
    public static func executionLogKey(_ store: JobStore, job id: String) -> String {
        store.keys.app("demo:executions:\(id)")
    }

    /// `demo.sleep`: sleeps `ms`, passing a checkpoint every 10 ms (which
    /// throws once the job is stopped, or its lease may have passed to
    /// another run); with `log`, keeps the execution log above.
    static func sleep(_ p: SleepParams, _ context: JobContext) async throws -> JobResult {
        let end = Date().addingTimeInterval(p.ms / 1000)
        guard p.log else {
            while Date() < end {
                try context.checkpoint()
                try await Task.sleep(for: .milliseconds(min(10, max(1, Int(end.timeIntervalSinceNow * 1000)))))
            }
            return .completed
        }
        let key = executionLogKey(context.store, job: context.job.id)
        func entry(_ kind: String, _ micros: Int64) -> String {
            "\(kind) \(context.job.worker ?? "?") \(micros) \(context.lease)"
        }
        try context.checkpoint()
        var last = microsecondsNow()
        do {
            // (If Redis applied this but the answer was lost, the `stop` below closes the run.)
            try await context.store.redisCommand("RPUSH", key, entry("start", last))
            while Date() < end {
                try context.checkpoint()
                last = microsecondsNow()
                try await Task.sleep(for: .milliseconds(min(10, max(1, Int(end.timeIntervalSinceNow * 1000)))))
            }
            try context.checkpoint()
            last = microsecondsNow()
        } catch {
            await appendUntilLanded(context.store, key, entry("stop", last))
            throw error
        }
        await appendUntilLanded(context.store, key, entry("end", last))
        return .completed
    }

    /// Wall-clock microseconds (comparable across the processes of one host).
    static func microsecondsNow() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1_000
    }

    /// RPUSH, retried while Redis is unavailable (an outage, a restart) for up
    /// to two minutes, so a run's closing entry is not lost to an outage. The
    /// task may be cancelled already, so the waits ignore cancellation.
    private static func appendUntilLanded(_ store: JobStore, _ key: String, _ value: String) async {
        for _ in 0..<2_400 {
            do {
                try await store.redisCommand("RPUSH", key, value)
                return
            } catch .unavailable {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(50)) { c.resume() }
                }
            } catch {
                return
            }
        }
    }

    /// Parameters of a task that takes none (`demo.noop`).
    public struct NoParams: Decodable, Sendable {}

    /// Where a test releases a `demo.stubborn` job (any value).
    public static func stubbornReleaseKey(_ keys: Keys, job id: String) -> String {
        keys.app("demo:stubborn:release:\(id)")
    }

    /// Set by a `demo.stubborn` job when its handler returns at last.
    public static func stubbornReturnedKey(_ keys: Keys, job id: String) -> String {
        keys.app("demo:stubborn:returned:\(id)")
    }

    /// A test task for the hard stop: its handler ignores cancellation — it
    /// waits, never reaching a checkpoint, until `stubbornReleaseKey` is set
    /// (a remote call that hangs and does not honour Task cancellation); then
    /// it reports progress, saves a cursor, marks `stubbornReturnedKey` and
    /// returns `.completed`, all of which the hard stop must have made moot.
    /// Not a pattern to copy: real handlers call `checkpoint()`.
    static func stubborn(_ p: NoParams, _ context: JobContext) async throws -> JobResult {
        let store = context.store
        let release = stubbornReleaseKey(store.keys, job: context.job.id)
        context.progress(stage: "hanging", counters: ["hung": 1])
        while try await store.redisCommand("EXISTS", release).int != 1 {
            // A wait that ignores cancellation, on no thread of the pool.
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(20)) { c.resume() }
            }
        }
        context.progress(stage: "returned late", counters: ["late": 1])
        try? await context.saveCursor(["late": true])
        try await store.redisCommand("SET", stubbornReturnedKey(store.keys, job: context.job.id), "1")
        return .completed
    }

    /// Registers `demo.sync`, `demo.noop`, `demo.sleep`, `demo.fail` (always
    /// throws: for retry tests and demos) and `demo.stubborn` (ignores
    /// cancellation: for tests of the hard stop).
    public static func register(in registry: TaskRegistry) {
        registry.register("demo.noop", params: NoParams.self) { _, _ in .completed }
        registry.register("demo.fail", params: FailParams.self) { p, _ in throw DemoFailure(description: p.message) }
        registry.register("demo.sleep", params: SleepParams.self, sleep)
        registry.register("demo.sync", params: SyncParams.self, sync)
        registry.register("demo.stubborn", params: NoParams.self, stubborn)
    }

    /// Where `demo.sync` writes the ids it synced for a source (a set).
    public static func syncedKey(_ keys: Keys, tenant: String, source: String) -> String {
        keys.app("demo:synced:\(tenant):\(source)")
    }

    /// Where `demo.sync` writes the ids it synced for a source, on `store`'s keys.
    public static func syncedKey(_ store: JobStore, tenant: String, source: String) -> String {
        syncedKey(store.keys, tenant: tenant, source: source)
    }

    /// Where `demo.sync` counts the items it fetched from a source (a fake
    /// source's reads: a sync resumed from its cursor does not fetch again
    /// what it had synced).
    public static func readsKey(_ keys: Keys, tenant: String, source: String) -> String {
        keys.app("demo:reads:\(tenant):\(source)")
    }

    /// Where a `demo.sync` run has got to: the next item to fetch.
    struct SyncCursor: Codable, Sendable {
        var next: Int
    }

    /// Syncs `total` items of a deterministic source in batches ("conversations"),
    /// checking for cancellation between batches. Each batch's items are written
    /// to Redis as it completes, so partial work survives a cancel, and a
    /// checkpoint cursor is saved after each batch: a retry or a recovery after
    /// a crash continues after the last saved batch, with its counters.
    static func sync(_ p: SyncParams, _ context: JobContext) async throws -> JobResult {
        let key = syncedKey(context.store, tenant: context.job.tenant, source: p.source)
        let reads = readsKey(context.store.keys, tenant: context.job.tenant, source: p.source)
        let store = context.store
        var synced = 0
        var failed = 0
        var index = 0
        if let resumed = try context.cursor(as: SyncCursor.self) {
            index = resumed.next
            synced = context.currentProgress.counters["synced"] ?? 0
            failed = context.currentProgress.counters["failed"] ?? 0
            context.progress(stage: "resumed", current: index, total: p.total)
        } else {
            context.progress(stage: "listing_items", current: 0, total: p.total, counters: ["synced": 0, "failed": 0])
        }
        while index < p.total {
            try context.checkpoint()
            let end = min(p.total, index + p.batch)
            let items = (index..<end).map { itemName(p.source, $0) }
            try await store.redisCommand("INCRBY", reads, items.count)
            if p.mode == "incremental" {
                let known = try await store.redisCommand("SMISMEMBER", [key] + items.map { $0 as any RedisArgument })
                if let firstKnown = (known.array ?? []).firstIndex(where: { $0.int == 1 }) {
                    let fresh = Array(items[..<firstKnown])
                    synced += try await write(fresh, to: key, failRate: p.failRate, failed: &failed, store: store)
                    context.progress(stage: "up_to_date", current: index + firstKnown, counters: ["synced": synced, "failed": failed])
                    return failed > 0 ? .completedWithErrors : .completed
                }
            }
            if p.delayMs > 0 {
                try await Task.sleep(for: .milliseconds(Int(p.delayMs * Double(items.count))))
            }
            synced += try await write(items, to: key, failRate: p.failRate, failed: &failed, store: store)
            index = end
            context.progress(stage: "processing_items", current: index, counters: ["synced": synced, "failed": failed])
            try await context.saveCursor(SyncCursor(next: index))
        }
        context.progress(stage: "done")
        return failed > 0 ? .completedWithErrors : .completed
    }

    /// Writes the items that do not fail (deterministically by name) and counts the rest.
    private static func write(_ items: [String], to key: String, failRate: Double, failed: inout Int, store: JobStore) async throws -> Int {
        var ok: [any RedisArgument] = []
        for item in items {
            if failRate > 0 && unitHash(item) < failRate { failed += 1 } else { ok.append(item) }
        }
        if !ok.isEmpty { try await store.redisCommand("SADD", [key] + ok) }
        return ok.count
    }

    /// `inbox-1-item-000042`: the deterministic source's item names.
    static func itemName(_ source: String, _ n: Int) -> String {
        let digits = String(n)
        return source + "-item-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// A stable value in [0, 1) from a string (FNV-1a), so failures repeat run after run.
    static func unitHash(_ s: String) -> Double {
        var h: UInt64 = 0xcbf29ce484222325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return Double(h % 1_000_000) / 1_000_000
    }
}
