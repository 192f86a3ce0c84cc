import Foundation
import Quell

/// Poison inputs, written into Redis behind Quell's back while the workers
/// run: a job whose params are not JSON, a job of a task type no worker
/// knows (each must end `failed` with the reason), a job hash of garbage
/// fields and queue entries naming no job (each must be dropped with a
/// `skipped <id>` log line); the workers must keep going.
struct Poison: Sendable {
    var notJSON = ""
    var unknownType = ""
    var garbage = ""
    var dangling: [String] = []

    /// The jobs are enqueued on a queue no worker reads, made poisonous, then moved to `default`.
    static func inject(_ store: JobStore) async throws -> Poison {
        var p = Poison()
        let hold = "chaos-hold"
        let bad = try await store.enqueue(EnqueueRequest(type: "demo.sleep", params: .object(["ms": .number(1)]), tenant: "acme", queue: hold))
        let unknown = try await store.enqueue(EnqueueRequest(type: "chaos.no-such-task", tenant: "acme", queue: hold))
        p.notJSON = bad.id
        p.unknownType = unknown.id
        p.garbage = JobID.make()
        p.dangling = [JobID.make(), "not-a-job"]
        let k = store.keys
        var commands = [
            RedisCommand("HSET", k.job(bad.id), "params", "{not json", "queue", "default"),
            RedisCommand("HSET", k.job(unknown.id), "queue", "default"),
            RedisCommand("LREM", k.queue(hold), 0, bad.id),
            RedisCommand("LREM", k.queue(hold), 0, unknown.id),
            RedisCommand("HSET", k.job(p.garbage), "id", p.garbage, "type", "demo.noop", "status", "queued", "version", "seven",
                         "attempt", "-x", "created_at", "yesterday", "tenant", "acme", "queue", "default"),
        ]
        commands.append(RedisCommand("LPUSH", [k.queue("default"), bad.id, unknown.id, p.garbage] + p.dangling.map { $0 as any RedisArgument }))
        for r in try await store.redis.pipeline(commands) {
            if case .error(let e) = r { throw ChaosFailure("poison injection: \(e)") }
        }
        return p
    }

    /// The ids that are not accepted jobs of the load, and how each must end.
    var jobIDs: Set<String> { [notJSON, unknownType] }
    var droppedIDs: [String] { [garbage] + dangling }
}
