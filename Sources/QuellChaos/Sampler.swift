import Foundation
import Quell
import Synchronization

/// Looks at Redis while the faults run, each look one atomic Lua snapshot
/// (one instant, whatever runs meanwhile):
/// - every dedupe key of the pool: at most one non-terminal job among the
///   jobs that ever carried it;
/// - now and then, the counts hash (what stats read) against a tally of
///   every job hash's status through the per-tenant `all` indexes;
/// - random accepted jobs: the first time each is seen terminal, its status
///   and version, which must never change afterwards.
/// Errors (Redis down or restarting) skip a look.
final class Sampler: Sendable {
    let store: JobStore
    let ledger: Ledger
    private let stopped = Atomic<Bool>(false)
    /// id → the terminal (status, version) first seen, and when.
    let terminalSeen = Mutex<[String: (status: String, version: Int, at: Double)]>([:])

    init(store: JobStore, ledger: Ledger) {
        self.store = store
        self.ledger = ledger
    }

    func stop() { stopped.store(true, ordering: .relaxed) }

    static let terminal: Set<String> = ["completed", "completed_with_errors", "failed", "cancelled", "timed_out"]

    /// ARGV: the job key prefix, then keyjobs keys. Returns, per key with more
    /// than one live job, "key id=status id=status…".
    static let dedupeScript = """
    local out = {}
    local terminal = {completed = true, completed_with_errors = true, failed = true, cancelled = true, timed_out = true}
    for i = 2, #ARGV do
      local live = {}
      for _, id in ipairs(redis.call('ZRANGE', ARGV[i], 0, -1)) do
        local s = redis.call('HGET', ARGV[1] .. id, 'status')
        if s and not terminal[s] then live[#live + 1] = id .. '=' .. s end
      end
      if #live > 1 then out[#out + 1] = ARGV[i] .. ' ' .. table.concat(live, ' ') end
    end
    return out
    """

    /// ARGV: the job key prefix, the counts key, then per tenant its name and
    /// its `all` index. Returns {HGETALL counts, {tenant␟status, n, …} tallied}.
    static let countsScript = """
    local tally = {}
    for i = 3, #ARGV, 2 do
      for _, id in ipairs(redis.call('ZRANGE', ARGV[i + 1], 0, -1)) do
        local s = redis.call('HGET', ARGV[1] .. id, 'status')
        local f = ARGV[i] .. '\\31' .. (s or 'missing')
        tally[f] = (tally[f] or 0) + 1
      end
    end
    local flat = {}
    for f, n in pairs(tally) do flat[#flat + 1] = f; flat[#flat + 1] = n end
    return {redis.call('HGETALL', ARGV[2]), flat}
    """

    var dedupeKeys: [String] {
        LoadGenerator.keysPerTenant.flatMap { tenant, n in
            (0..<n).map { store.keys.keyIndex(tenant: tenant, key: "sync-k\($0)") }
        }
    }

    func run() async {
        var round = 0
        while !stopped.load(ordering: .relaxed) {
            round += 1
            await sampleDedupe()
            if round % 8 == 0 { await sampleCounts() }
            await sampleTerminal()
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    func sampleDedupe() async {
        guard let reply = try? await store.redis.send(RedisCommand("EVAL", [Self.dedupeScript, 0, store.keys.job("")] + dedupeKeys)) else { return }
        ledger.count("dedupe snapshots")
        for line in (reply.array ?? []).compactMap(\.string) {
            ledger.breach("two live jobs hold one dedupe key at one instant: \(line)")
        }
    }

    /// One atomic comparison of the counts hash with a tally of the job
    /// hashes; true when it was made (Redis answered).
    @discardableResult
    func sampleCounts() async -> Bool {
        var args: [any RedisArgument] = [Self.countsScript, 0, store.keys.job(""), store.keys.counts]
        for t in ChaosAPI.tenants { args += [t, store.keys.allIndex(tenant: t)] }
        guard let reply = try? await store.redis.send(RedisCommand("EVAL", args)), let parts = reply.array, parts.count == 2,
              let counts = try? parts[0].pairs(), let tally = try? parts[1].pairs() else { return false }
        ledger.count("counts snapshots")
        let sep = "\u{1F}"
        var allTenants: [String: Int] = [:]
        for (field, n) in tally {
            let status = String(field.split(separator: Character(sep), omittingEmptySubsequences: false).last ?? "")
            allTenants[status, default: 0] += Int(n) ?? 0
        }
        for (field, n) in tally where (Int(counts[field] ?? "0") ?? 0) != (Int(n) ?? 0) {
            ledger.breach("counts hash says \(field.replacingOccurrences(of: sep, with: "/")) = \(counts[field] ?? "0"), the job hashes \(n)")
        }
        for (field, n) in counts where field != "built" && !field.hasPrefix(sep) && tally[field] == nil && n != "0" {
            ledger.breach("counts hash says \(field.replacingOccurrences(of: sep, with: "/")) = \(n), the job hashes 0")
        }
        for (status, n) in allTenants where (Int(counts[sep + status] ?? "0") ?? 0) != n {
            ledger.breach("counts hash says all/\(status) = \(counts[sep + status] ?? "0"), the job hashes \(n)")
        }
        return true
    }

    func sampleTerminal() async {
        let ids = ledger.state.withLock { s in (0..<min(100, s.accepted.count)).map { _ in s.accepted.randomElement()!.id } }
        guard !ids.isEmpty else { return }
        let at = now()
        guard let replies = try? await store.redis.pipeline(ids.map { RedisCommand("HMGET", store.keys.job($0), "status", "version") }) else { return }
        terminalSeen.withLock { seen in
            for (id, r) in zip(ids, replies) where seen[id] == nil {
                guard let a = r.array, a.count == 2, let s = a[0].string, Self.terminal.contains(s), let v = a[1].string.flatMap(Int.init) else { continue }
                seen[id] = (s, v, at)
            }
        }
    }
}
