import Foundation
import Quell

/// `--sabotage NAME`: breaks one thing behind Quell's back, to show the
/// check that guards it fails (each must make the run exit non-zero):
/// - `lost`: deletes an accepted job's hash once all are terminal;
/// - `counts`: adds one to a count in the counts hash;
/// - `terminal`: turns a completed job back to running (no event);
/// - `double`: logs a second run of a completed sleeper overlapping its own;
/// - `dedupe`: mid-run, turns a finished keyed job back to queued, so its
///   key has two live jobs at the next sampled instant.
enum Sabotage: String, CaseIterable {
    case lost, counts, terminal, double, dedupe

    /// While the load runs (dedupe only).
    func duringRun(_ store: JobStore, _ ledger: Ledger) async throws {
        guard self == .dedupe else { return }
        let keyed = ledger.state.withLock { $0.accepted.filter { $0.key != nil } }
        for a in keyed {
            let j = try await store.job(id: a.id, tenant: nil)
            if j.status.isTerminal {
                _ = try await store.redis.send(RedisCommand("HSET", store.keys.job(a.id), "status", "queued"))
                ledger.event("sabotage: \(a.id) (key \(a.key!)) set back to queued")
                return
            }
        }
    }

    /// Once every job is terminal.
    func afterRun(_ store: JobStore, _ ledger: Ledger) async throws {
        let s = ledger.snapshot
        switch self {
        case .dedupe: return
        case .lost:
            let a = s.accepted.randomElement()!
            _ = try await store.redis.send(RedisCommand("DEL", store.keys.job(a.id)))
            ledger.event("sabotage: deleted \(a.id)")
        case .counts:
            _ = try await store.redis.send(RedisCommand("HINCRBY", store.keys.counts, "acme\u{1F}completed", 1))
            ledger.event("sabotage: counts acme/completed + 1")
        case .terminal, .double:
            for a in s.accepted.shuffled() where a.kind == .sleep {
                let j = try await store.job(id: a.id, tenant: nil)
                guard j.status == .completed else { continue }
                if self == .terminal {
                    _ = try await store.redis.send(RedisCommand("HSET", store.keys.job(a.id), "status", "running"))
                    ledger.event("sabotage: \(a.id) set back to running")
                } else {
                    let log = store.keys.app("demo:executions:\(a.id)")
                    let entries = try await store.redis.send(RedisCommand("LRANGE", log, 0, 0)).array?.compactMap(\.string) ?? []
                    guard let first = entries.first?.split(separator: " "), first.count == 4, let t = Int64(first[2]) else { continue }
                    _ = try await store.redis.send(RedisCommand("RPUSH", log, "start \(first[1]) \(t + 1) sabotage/1/1",
                                                                "end \(first[1]) \(t + 2) sabotage/1/1"))
                    ledger.event("sabotage: a second, overlapping run of \(a.id) logged")
                }
                return
            }
        }
    }
}
