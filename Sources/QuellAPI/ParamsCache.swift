import Quell
import Synchronization

/// Jobs' `params`, which events and some script replies leave out.
///
/// Params never change after enqueue, so a cached value is never stale. Misses are
/// read for a whole batch at once (`JobStore.params(of:)`).
///
/// Bounded in bytes (`maxBytes`, counting each entry's params and id plus a fixed
/// overhead) and in entries; the oldest entries go first. Params larger than
/// `maxEntryBytes` are never kept: they are read from Redis each time they are needed,
/// so a few huge jobs cannot push out everyone else's or hold memory for long.
final class ParamsCache: Sendable {
    private struct State {
        var values: [String: String] = [:]
        /// Ids in insertion order from `head` on; every one is in `values`.
        var order: [String] = []
        var head = 0
        var bytes = 0
    }

    /// Bytes counted per entry beyond its params and id (dictionary slot, string headers, order slot).
    static let entryOverhead = 64

    private let state = Mutex(State())
    private let store: JobStore
    /// Bytes held at most (approximately: see `entryOverhead`).
    let maxBytes: Int
    /// Params longer than this (in UTF-8 bytes) are not cached.
    let maxEntryBytes: Int
    /// Entries held at most.
    let maxEntries: Int

    init(store: JobStore, maxBytes: Int = 16 << 20, maxEntryBytes: Int = 64 << 10, maxEntries: Int = 20_000) {
        self.store = store
        self.maxBytes = max(0, maxBytes)
        self.maxEntryBytes = max(0, min(maxEntryBytes, maxBytes - Self.entryOverhead))
        self.maxEntries = max(1, maxEntries)
    }

    /// Remembers the params of a job read whole (e.g. just enqueued).
    func remember(_ job: Job) {
        guard let params = job.params else { return }
        state.withLock { s in insert(job.id, params, into: &s) }
    }

    /// `jobs` with `params` filled in where they were missing. Best effort: on a Redis
    /// failure the jobs come back as they were (params null).
    func fill(_ jobs: [Job]) async -> [Job] {
        var out = jobs
        var missing: [Int] = []
        state.withLock { s in
            for i in out.indices where out[i].params == nil {
                if let p = s.values[out[i].id] { out[i].params = p } else { missing.append(i) }
            }
        }
        if missing.isEmpty { return out }
        guard let found = try? await store.params(of: missing.map { out[$0].id }) else { return out }
        state.withLock { s in
            for (id, p) in found { insert(id, p, into: &s) }
        }
        for i in missing { out[i].params = found[out[i].id] }
        return out
    }

    func fill(_ job: Job) async -> Job {
        await fill([job])[0]
    }

    /// Entries held.
    var count: Int { state.withLock { $0.values.count } }

    /// Whether the params of job `id` are held now.
    func holds(_ id: String) -> Bool { state.withLock { $0.values[id] != nil } }

    /// Bytes held, as counted against `maxBytes`.
    var byteCount: Int { state.withLock { $0.bytes } }

    private static func cost(_ id: String, _ params: String) -> Int {
        params.utf8.count + id.utf8.count + entryOverhead
    }

    private func insert(_ id: String, _ params: String, into s: inout State) {
        guard params.utf8.count <= maxEntryBytes, s.values[id] == nil else { return }
        s.values[id] = params
        s.order.append(id)
        s.bytes += Self.cost(id, params)
        while s.bytes > maxBytes || s.values.count > maxEntries, s.head < s.order.count {
            let old = s.order[s.head]
            s.head += 1
            if let p = s.values.removeValue(forKey: old) { s.bytes -= Self.cost(old, p) }
        }
        if s.head >= 1024 && s.head * 2 >= s.order.count {
            s.order.removeFirst(s.head)
            s.head = 0
        }
    }
}
