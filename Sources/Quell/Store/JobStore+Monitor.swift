import FoundationEssentials

/// A job's status and last heartbeat, read without the rest of the job
/// (heartbeats are not events, so a dashboard following the event stream
/// refreshes them this way).
package struct JobHeartbeat: Sendable, Equatable {
    /// The job's status now (nil if Redis holds a status Quell does not know).
    package var status: JobStatus?
    /// When its worker last beat for it (its start until the first heartbeat);
    /// nil if it never started.
    package var heartbeatAt: Date?
}

/// Reads for dashboards (`quell monitor`): the newest events, running jobs'
/// heartbeats, Redis's clock.
extension JobStore {
    /// The newest `count` events up to stream id `upTo` (inclusive; nil = up to
    /// the newest), newest first: what a dashboard shows on opening, before it
    /// follows with `events(after:)`.
    public func latestEvents(upTo: String? = nil, count: Int) async throws(QuellError) -> [JobEvent] {
        let through = try upTo.map(EventID.parse) ?? EventID(entry: "+", index: nil)
        // `count` entries hold at least `count` events (an entry holds one
        // call's events): the newest `count` of them.
        let reply = try await mapped {
            try await redis.send(RedisCommand("XREVRANGE", keys.events, through.entry, "-", "COUNT", max(1, count)))
        }
        return Array(try decodeEvents(reply, through: through).prefix(max(1, count)))
    }

    /// The status and heartbeat of each job in `ids`, in one pipelined round
    /// trip (`HMGET status heartbeat_at started_at` each). Jobs that no longer exist are
    /// absent. No tenant check: for an admin's dashboard. An error reply throws
    /// (a refusal such as `BUSY` must not read as "deleted").
    package func heartbeats(of ids: [String]) async throws(QuellError) -> [String: JobHeartbeat] {
        let valid = ids.filter(JobID.isValid)
        let replies = try await checkedPipeline(valid.map { RedisCommand("HMGET", keys.job($0), "status", "heartbeat_at", "started_at") })
        func date(_ reply: RedisReply) -> Date? { reply.string.flatMap(Double.init).map { Date(timeIntervalSince1970: $0 / 1000) } }
        var out: [String: JobHeartbeat] = [:]
        for (id, reply) in zip(valid, replies) {
            let fields = reply.array ?? []
            guard fields.count == 3, let status = fields[0].string else { continue }  // deleted meanwhile
            let known = JobStatus(rawValue: status)
            out[id] = JobHeartbeat(status: known, heartbeatAt: Job.lastBeat(status: known, heartbeat: date(fields[1]), started: date(fields[2])))
        }
        return out
    }

    /// Redis's clock (`TIME`): the clock that stamps event ids (`1732412345678-0`),
    /// which may differ from this process's.
    package func serverTime() async throws(QuellError) -> Date {
        let reply = try await mapped { try await redis.send(RedisCommand("TIME")) }
        guard let parts = reply.array, parts.count == 2, let s = parts[0].string.flatMap(Double.init),
              let us = parts[1].string.flatMap(Double.init) else { throw .corrupt("TIME answered \(reply)") }
        return Date(timeIntervalSince1970: s + us / 1_000_000)
    }
}
