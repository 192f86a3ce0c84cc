/// Outages are never verdicts (DESIGN.md "Reliability pieces", invariant 6).
///
/// While Redis is down or restarting nobody can heartbeat, so right after it
/// comes back every running job's heartbeat looks old, though its worker is
/// alive and about to beat. Each store therefore records, on every new
/// connection and before anything else is sent on it, that Redis restarted
/// (its `run_id` changed) or that this process regained it (a reconnect);
/// the reaper, cleanup and enqueue's stuck-holder check then give no verdict
/// for one stale window (`verdicts_held` in lib.lua).
extension JobStore {
    /// Installs the connect hook on this store's client (called from `init`).
    func installResumeHook() {
        let base = keys.base
        let clock = self.clock
        redis.addConnectHook { connection, reconnected throws(RedisError) in
            try Self.recordResume(on: connection, base: base, nowMS: clock.now().milliseconds, reconnected: reconnected)
        }
    }

    /// `INFO server` for the run id, then `liveness.lua`. A transient refusal
    /// (LOADING right after a restart) fails the connect: nothing else may be
    /// sent before the resume is recorded.
    static func recordResume(on connection: RedisConnection, base: String, nowMS: Int, reconnected: Bool) throws(RedisError) {
        var runID = ""
        switch try connection.send(RedisCommand("INFO", "server")) {
        case .bulk(let text):
            runID = Self.runID(inInfo: text) ?? ""
        case .error(let message) where RedisError.isTransient(message):
            throw .connectionRefused("Redis is not serving yet: \(message)")
        default:
            break  // INFO denied (ACL, renamed command): reconnects still count
        }
        let reply: RedisReply
        do {
            reply = try connection.run(Scripts.liveness, keys: [], arguments: [base, nowMS, runID, reconnected ? "1" : "0"])
        } catch {
            if case .server(let message) = error, RedisError.isTransient(message) {
                throw .connectionRefused("Redis is not serving yet: \(message)")
            }
            throw error
        }
        if case .error(let message) = reply {
            if RedisError.isTransient(message) { throw .connectionRefused("Redis is not serving yet: \(message)") }
            throw .server("liveness.lua: \(message)")
        }
    }

    /// The `run_id:` line of an `INFO server` reply.
    static func runID(inInfo text: String) -> String? {
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("run_id:") {
            return String(line.dropFirst("run_id:".count))
        }
        return nil
    }
}
