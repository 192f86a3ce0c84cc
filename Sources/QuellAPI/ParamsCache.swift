import Quell
import Synchronization

/// Jobs' `params`, which events and some script replies leave out.
///
/// Params never change after enqueue, so a cached value is never stale. Misses
/// are fetched for a whole batch with one pipelined `HGET <job> params` per id.
/// Bounded: when full, the oldest half of the entries is dropped.
final class ParamsCache: Sendable {
    private struct State {
        var values: [String: String] = [:]
        var order: [String] = []
    }

    private let state = Mutex(State())
    private let store: JobStore
    let capacity: Int

    init(store: JobStore, capacity: Int = 20_000) {
        self.store = store
        self.capacity = max(2, capacity)
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
        var ids: [String] = []
        var seen = Set<String>()
        for i in missing where seen.insert(out[i].id).inserted { ids.append(out[i].id) }
        let keys = store.keys
        guard let replies = try? await store.redis.pipeline(ids.map { RedisCommand("HGET", keys.job($0), "params") }) else {
            return out
        }
        var found: [String: String] = [:]
        for (id, reply) in zip(ids, replies) {
            if case .bulk(let p) = reply { found[id] = p }
        }
        state.withLock { s in
            for (id, p) in found { insert(id, p, into: &s) }
        }
        for i in missing { out[i].params = found[out[i].id] }
        return out
    }

    func fill(_ job: Job) async -> Job {
        await fill([job])[0]
    }

    var count: Int { state.withLock { $0.values.count } }

    private func insert(_ id: String, _ params: String, into s: inout State) {
        if s.values.updateValue(params, forKey: id) == nil {
            s.order.append(id)
            if s.order.count > capacity {
                let drop = s.order.count / 2
                for old in s.order[..<drop] { s.values.removeValue(forKey: old) }
                s.order.removeFirst(drop)
            }
        }
    }
}
