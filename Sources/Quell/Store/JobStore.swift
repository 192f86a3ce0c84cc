import FoundationEssentials

/// The client API of the job store: enqueue, read, list, cancel, clean up,
/// count, follow events. Every state change is one Lua script (Scripts/),
/// so the invariants of DESIGN.md hold under any concurrency.
///
/// Tenants: every read and cancel takes the caller's tenant; another
/// tenant's job is `notFound`. `tenant: nil` means an admin (all tenants).
///
/// Errors are always `QuellError`: Redis being unreachable is `.unavailable`.
public final class JobStore: Sendable {
    /// The settings every process on this store shares.
    public let configuration: QuellConfiguration
    /// Key names; an application's own keys come from `keys.app(_:)`.
    public let keys: Keys
    /// The shared, pipelining connection this store talks through. Package
    /// access: an application runs its own commands with `redisCommand`, so the
    /// store keeps the one mapping of Redis failures to `QuellError`.
    package let redis: RedisClient
    /// The time source of every script call (`ManualClock` in tests).
    public let clock: any QuellClock
    /// Concurrent single enqueues share one function call (group commit).
    let enqueueGroup: EnqueueGroup

    /// A store on an existing client (tests and benchmarks share or tune clients).
    package init(redis: RedisClient, configuration: QuellConfiguration, clock: any QuellClock = SystemClock()) {
        self.redis = redis
        self.configuration = configuration
        self.keys = configuration.keys
        self.clock = clock
        self.enqueueGroup = EnqueueGroup(linger: .nanoseconds(Int64((configuration.enqueueLinger * 1e9).rounded())))
        installResumeHook()
    }

    /// A store with a connection of its own to `configuration.redisURL`
    /// (connected on first use; `clientName` is what `CLIENT LIST` shows).
    /// Close it with `close()` when done.
    public convenience init(configuration: QuellConfiguration, clock: any QuellClock = SystemClock(), clientName: String = "quell") {
        self.init(redis: RedisClient(url: configuration.redisURL, options: RedisOptions(clientName: clientName)),
                  configuration: configuration, clock: clock)
    }

    var nowMS: Int { clock.now().milliseconds }
    var staleMS: Int { Int(configuration.staleAfter * 1000) }

    /// The three arguments every script starts with (see lib.lua).
    func header(_ now: Int) -> [any RedisArgument] { [keys.base, now, configuration.eventsMaxLength] }

    /// Runs `body`, turning Redis failures into `QuellError`.
    func mapped<T>(_ body: () async throws -> T) async throws(QuellError) -> T {
        do {
            return try await body()
        } catch let error as QuellError {
            throw error
        } catch let error as RedisError {
            if case .server(let message) = error, let r = message.firstRange(of: "CORRUPT ") {
                throw .corrupt(String(message[r.upperBound...]).components(separatedBy: " script:").first ?? message)
            }
            if error.isUnavailable { throw .unavailable(error) }
            throw .invalid("Redis refused the request: \(error)")
        } catch {
            throw .invalid("\(error)")
        }
    }

    /// A pipeline whose error replies throw (the first one, mapped like any
    /// other failure): a refusal such as `BUSY` must not read as "no jobs".
    func checkedPipeline(_ commands: [RedisCommand]) async throws(QuellError) -> [RedisReply] {
        try await mapped {
            let replies = try await redis.pipeline(commands)
            for r in replies { try r.orThrow() }
            return replies
        }
    }

    // MARK: - Enqueue

    /// Enqueues one job. Throws `.conflict(holder)` when a non-terminal job
    /// holds the same dedupe key, `.invalid` for a bad request.
    ///
    /// Concurrent calls are committed together: requests that arrive while
    /// one enqueue is on its way to Redis share the next call (one atomic
    /// call, in arrival order), so many producers cost Redis far less per
    /// job than one call each. A lone caller is never made to wait for
    /// others; under concurrency a call may wait up to
    /// `QuellConfiguration.enqueueLinger` for the callers the previous call
    /// answered, so that each call carries them all.
    @discardableResult
    public func enqueue(_ request: EnqueueRequest) async throws(QuellError) -> Job {
        try await enqueueGroup.enqueue(request) { [self] (group) throws(QuellError) in
            try await enqueue(batch: group)
        }.get()
    }

    /// Enqueues many jobs in one script call; one result per request, in order.
    public func enqueue(batch requests: [EnqueueRequest]) async throws(QuellError) -> [Result<Job, QuellError>] {
        var results = [Result<Job, QuellError>?](repeating: nil, count: requests.count)
        let now = clock.now()
        let ms = now.milliseconds
        var arguments = header(ms)
        arguments.append(staleMS)
        var jobs: [(Int, Job)] = []
        for (i, r) in requests.enumerated() {
            do {
                try r.validate()
            } catch let e as QuellError {
                results[i] = .failure(e)
                continue
            } catch {
                results[i] = .failure(.invalid("\(error)"))
                continue
            }
            let id = r.id ?? JobID.make(at: now)
            let timeoutText = r.timeout.map { String($0) } ?? ""
            let headersText = Job.headersText(r.headers)
            arguments += [id, r.type, r.queue, r.tenant, r.key ?? "", r.params, r.maxAttempts, timeoutText, headersText] as [any RedisArgument]
            let fields: [String: String] = [
                "id": id, "type": r.type, "queue": r.queue, "tenant": r.tenant, "key": r.key ?? "",
                "status": "queued", "params": r.params, "attempt": "0", "max_attempts": String(r.maxAttempts),
                "version": "1", "created_at": String(ms), "timeout": timeoutText, "headers": headersText,
            ]
            jobs.append((i, try decode(fields)))
        }
        if !jobs.isEmpty {
            let reply = try await mapped {
                try await redis.run(Scripts.enqueue, keys: [keys.shard], arguments: arguments)
            }
            // One flat list: 'ok' | 'conflict', packed, params | 'error', message (enqueue.lua).
            guard case .array(let items) = reply else { throw .corrupt("enqueue script answered \(reply)") }
            var at = 0
            for (i, job) in jobs {
                let rest = items.count - at
                switch at < items.count ? items[at].string : nil {
                case "ok":
                    results[i] = .success(job)
                    at += 1
                case "conflict" where rest >= 3:
                    results[i] = .failure(.conflict(try decodePacked(.array([items[at + 1], items[at + 2]]))))
                    at += 3
                case "error" where rest >= 2:
                    results[i] = .failure(.corrupt(items[at + 1].string ?? "holder is corrupt"))
                    at += 2
                default:
                    throw .corrupt("enqueue script answered \(reply) (record \(i + 1) of \(jobs.count))")
                }
            }
            if at != items.count { throw .corrupt("enqueue script answered \(items.count - at) entries too many") }
        }
        return results.map { $0! }
    }

    // MARK: - Read

    /// One job, with params. Another tenant's job is `.notFound`.
    public func job(id: String, tenant: String?) async throws(QuellError) -> Job {
        guard JobID.isValid(id) else { throw .notFound(id) }
        let reply = try await mapped { try await redis.send(RedisCommand("HGETALL", keys.job(id))) }
        guard case .array(let items) = reply, !items.isEmpty else { throw .notFound(id) }
        let job = try decode(reply, id: id)
        if let tenant, job.tenant != tenant { throw .notFound(id) }
        return job
    }

    /// Jobs newest first, filtered by status and/or dedupe key, paged with a
    /// cursor (the last id of the previous page).
    public func jobs(status: JobStatus? = nil, key: String? = nil, tenant: String?, limit: Int = 50,
                     cursor: String? = nil) async throws(QuellError) -> JobPage {
        let limit = max(1, min(limit, 1000))
        if let cursor, !JobID.isValid(cursor) { throw .invalid("cursor must be a job id from next_cursor") }
        if status == .running && key == nil { return try await runningJobs(tenant: tenant, limit: limit, cursor: cursor) }
        let tenants: [String]
        if let tenant {
            tenants = [tenant]
        } else {
            let reply = try await mapped { try await redis.send(RedisCommand("SMEMBERS", keys.tenants)) }
            tenants = (reply.array ?? []).compactMap(\.string)
        }
        func index(_ t: String) -> String {
            if let key { return keys.keyIndex(tenant: t, key: key) }
            // Queued jobs have no status index (enqueue and start would pay
            // for one): they are filtered from the tenant's `all` index.
            if let status, status != .queued { return keys.index(tenant: t, status: status) }
            return keys.allIndex(tenant: t)
        }
        var out: [Job] = []
        var position = cursor
        // A key index and the `all` index hold every status: filtering may need several rounds.
        for _ in 0..<20 {
            let commands = tenants.map {
                RedisCommand("ZREVRANGEBYLEX", index($0), position.map { "(" + $0 } ?? "+", "-", "LIMIT", 0, limit + 1)
            }
            let replies = try await checkedPipeline(commands)
            var ids: [String] = []
            for r in replies { ids += (r.array ?? []).compactMap(\.string) }
            ids.sort(by: >)
            let more = ids.count > limit
            ids = Array(ids.prefix(limit))
            if ids.isEmpty { return JobPage(jobs: out, nextCursor: nil) }
            let loaded = try await checkedPipeline(ids.map { RedisCommand("HGETALL", keys.job($0)) })
            for (id, r) in zip(ids, loaded) {
                guard case .array(let a) = r, !a.isEmpty else { continue }  // deleted meanwhile
                let job = try decode(r, id: id)
                if let status, job.status != status { continue }
                if let tenant, job.tenant != tenant { continue }
                out.append(job)
                if out.count == limit { return JobPage(jobs: out, nextCursor: (more || id != ids.last) ? id : nil) }
            }
            if !more { return JobPage(jobs: out, nextCursor: nil) }
            position = ids.last
        }
        return JobPage(jobs: out, nextCursor: position)
    }

    /// Running jobs newest first. They have no status index (a start and a
    /// finish would each pay for moving one): the active set holds every job
    /// a worker runs, as many as the fleet has slots, and is read whole.
    private func runningJobs(tenant: String?, limit: Int, cursor: String?) async throws(QuellError) -> JobPage {
        let reply = try await mapped { try await redis.send(RedisCommand("ZRANGE", keys.active, 0, -1)) }
        var ids = (reply.array ?? []).compactMap(\.string)
        if let cursor { ids = ids.filter { $0 < cursor } }
        ids.sort(by: >)
        var out: [Job] = []
        var from = 0
        while from < ids.count {
            let chunk = ids[from..<min(ids.count, from + limit)]
            let loaded = try await checkedPipeline(chunk.map { RedisCommand("HGETALL", keys.job($0)) })
            for (offset, (id, r)) in zip(chunk, loaded).enumerated() {
                guard case .array(let a) = r, !a.isEmpty else { continue }  // deleted meanwhile
                let job = try decode(r, id: id)
                guard job.status == .running, tenant == nil || job.tenant == tenant else { continue }
                out.append(job)
                if out.count == limit { return JobPage(jobs: out, nextCursor: from + offset < ids.count - 1 ? id : nil) }
            }
            from += limit
        }
        return JobPage(jobs: out, nextCursor: nil)
    }

    /// Counts per status, queue depths and workers. O(statuses × tenants + queues + workers).
    public func stats(tenant: String?) async throws(QuellError) -> QueueStats {
        var arguments = header(nowMS)
        arguments.append(tenant ?? "")
        let reply = try await mapped { try await redis.run(Scripts.stats, keys: [keys.shard], arguments: arguments) }
        let parts = try expectArray(reply, count: 4, "stats")
        let counts = Self.statusCounts(parts[0])
        let queues = (parts[1].array ?? []).compactMap { q -> QueueDepth? in
            guard let a = q.array, a.count == 3, let name = a[0].string else { return nil }
            return QueueDepth(name: name, depth: a[1].int ?? 0, scheduled: a[2].int ?? 0)
        }
        let workers = (parts[2].array ?? []).compactMap { w -> WorkerInfo? in
            guard let a = w.array, a.count >= 1, let expires = a[0].double else { return nil }
            let f = (try? RedisReply.array(Array(a.dropFirst())).pairs()) ?? [:]
            guard let id = f["id"] else { return nil }
            func date(_ k: String) -> Date? { f[k].flatMap(Double.init).map { Date(timeIntervalSince1970: $0 / 1000) } }
            return WorkerInfo(id: id, queues: (f["queues"] ?? "").split(separator: ",").map(String.init),
                              slots: Int(f["slots"] ?? "") ?? 0, busy: Int(f["busy"] ?? "") ?? 0,
                              startedAt: date("started_at"), lastBeat: date("last_beat"),
                              expiresAt: Date(timeIntervalSince1970: expires / 1000))
        }
        let totals = (try? parts[3].pairs()) ?? [:]
        return QueueStats(counts: counts, queues: queues, workers: workers, finishedTotals: Self.statusCounts(parts[3]),
                          pausesTotal: Int(totals["pauses"] ?? "") ?? 0, resumesTotal: Int(totals["resumes"] ?? "") ?? 0,
                          forcedStopsTotal: Int(totals["forced"] ?? "") ?? 0)
    }

    /// `{status, n, status, n, …}` (a script's list, or HGETALL of a count hash) by status.
    static func statusCounts(_ reply: RedisReply) -> [JobStatus: Int] {
        var counts: [JobStatus: Int] = [:]
        let items = reply.array ?? []
        var i = 0
        while i + 1 < items.count {
            if let s = items[i].string.flatMap(JobStatus.init(rawValue:)) { counts[s] = items[i + 1].int ?? 0 }
            i += 2
        }
        return counts
    }

    /// Events after an event id (nil = from the oldest kept), oldest first:
    /// those of up to `limit` stream entries (an entry holds one call's
    /// events, so there may be more than `limit` of them).
    public func events(after: String?, limit: Int = 1000) async throws(QuellError) -> [JobEvent] {
        let position = try after.map(EventID.parse)
        // Through a whole entry: the entries after it. Through one event of
        // an entry: that entry again (one more), without what was seen.
        let inside = position?.index != nil
        let start = position.map { inside ? $0.entry : "(" + $0.entry } ?? "-"
        let reply = try await mapped {
            try await redis.send(RedisCommand("XRANGE", keys.events, start, "+", "COUNT", max(1, limit) + (inside ? 1 : 0)))
        }
        return try decodeEvents(reply, after: position)
    }

    /// Decodes stream entries (an XRANGE reply, or one stream of an XREAD
    /// reply) into events, oldest first, each with its id (`EventID`). Each
    /// entry holds one or more fields `j`: a packed job each. With `after`,
    /// drops the events up to it; with `through` (an XREVRANGE reply, newest
    /// first, and so out), the events after it.
    package func decodeEvents(_ reply: RedisReply, after: EventID? = nil, through: EventID? = nil) throws(QuellError) -> [JobEvent] {
        let newestFirst = through != nil
        guard case .array(let entries) = reply else { return [] }
        var out: [JobEvent] = []
        out.reserveCapacity(entries.count)
        for e in entries {
            guard let pair = e.array, pair.count == 2, let id = pair[0].string,
                  let fields = pair[1].array, fields.count >= 2, fields.count % 2 == 0 else {
                throw .corrupt("malformed stream entry \(e)")
            }
            let count = fields.count / 2
            for k in 0..<count {
                let i = newestFirst ? count - 1 - k : k
                if let after, !after.isBefore(entry: id, index: i) { continue }
                if let through, !through.isAtOrAfter(entry: id, index: i) { continue }
                guard let packed = fields[2 * i + 1].string else { throw .corrupt("malformed stream entry \(e)") }
                do {
                    out.append(JobEvent(id: EventID.text(entry: id, index: i, of: count), job: try Job(packed: packed)))
                } catch let error as QuellError {
                    throw error
                } catch {
                    throw .corrupt("\(error)")
                }
            }
        }
        return out
    }

    /// The id of the newest event, or nil when the stream is empty: "follow from now".
    public func lastEventID() async throws(QuellError) -> String? {
        let reply = try await mapped { try await redis.send(RedisCommand("XREVRANGE", keys.events, "+", "-", "COUNT", 1)) }
        return reply.array?.first?.array?.first?.string
    }

    // MARK: - Cancel and cleanup

    /// Asks a job to stop. Queued or paused → `cancelled` now; running or
    /// pausing → `cancelling` (the worker stops at its next checkpoint).
    /// Repeating answers the same.
    /// Throws `.notCancellable(job)` when it already ended otherwise.
    @discardableResult
    public func cancel(id: String, tenant: String?, reason: String = "user") async throws(QuellError) -> Job {
        guard JobID.isValid(id) else { throw .notFound(id) }
        var arguments = header(nowMS)
        arguments += [Int(configuration.revokedTTL * 1000), id, tenant ?? "", Job.fieldText(reason)] as [any RedisArgument]
        let reply = try await mapped { try await redis.run(Scripts.cancel, keys: [keys.shard], arguments: arguments) }
        let parts = reply.array ?? []
        switch parts.first?.string {
        case "cancelled", "cancelling": return try decodePacked(parts[1])
        case "not_cancellable": throw .notCancellable(try decodePacked(parts[1]))
        case "not_found": throw .notFound(id)
        default: throw .corrupt("cancel script answered \(reply)")
        }
    }

    /// Pauses a job: queued → `paused` now (out of its queue); running →
    /// `pausing`, and its worker stops it at the next checkpoint, saves its
    /// cursor and makes it `paused`. A paused job keeps its dedupe key (a new
    /// trigger gets `.conflict` with it), has no heartbeat or deadline, and is
    /// never reaped; `resume` puts it back in its queue. Repeating answers the
    /// same. Throws `.notPausable(job)` when it is being cancelled or ended.
    @discardableResult
    public func pause(id: String, tenant: String?) async throws(QuellError) -> Job {
        try await pauseOrResume(Scripts.pause, id: id, tenant: tenant, ok: ["paused", "pausing"], refused: "not_pausable")
    }

    /// Resumes a paused job: back at the end of its queue, `resumes` + 1; its
    /// next run continues from its saved cursor with the counters saved with
    /// it. A queued or running job answers as it is (repeating is harmless).
    /// Throws `.notResumable(job)` while it is still pausing, being
    /// cancelled, or ended.
    @discardableResult
    public func resume(id: String, tenant: String?) async throws(QuellError) -> Job {
        try await pauseOrResume(Scripts.resume, id: id, tenant: tenant, ok: ["queued", "running"], refused: "not_resumable")
    }

    private func pauseOrResume(_ script: RedisFunction, id: String, tenant: String?, ok: Set<String>,
                               refused: String) async throws(QuellError) -> Job {
        guard JobID.isValid(id) else { throw .notFound(id) }
        var arguments = header(nowMS)
        arguments += [id, tenant ?? ""] as [any RedisArgument]
        let reply = try await mapped { try await redis.run(script, keys: [keys.shard], arguments: arguments) }
        let parts = reply.array ?? []
        guard let code = parts.first?.string else { throw .corrupt("\(script.name) script answered \(reply)") }
        if code == "not_found" { throw .notFound(id) }
        guard parts.count == 2 else { throw .corrupt("\(script.name) script answered \(reply)") }
        let job = try decodePacked(parts[1])
        if ok.contains(code) { return job }
        if code == refused { throw refused == "not_pausable" ? .notPausable(job) : .notResumable(job) }
        throw .corrupt("\(script.name) script answered \(reply)")
    }

    /// Closes stuck jobs now (stale heartbeat or past deadline) and releases
    /// expired workers' claims; reports what it closed.
    public func cleanup(tenant: String? = nil) async throws(QuellError) -> CleanupResult {
        var arguments = header(nowMS)
        arguments += [staleMS, tenant ?? ""] as [any RedisArgument]
        let reply = try await mapped { try await redis.run(Scripts.cleanup, keys: [keys.shard], arguments: arguments) }
        var ids: [String] = []
        var workers: [String] = []
        for e in reply.array ?? [] {
            guard let a = e.array, a.count == 2, let action = a[0].string, let id = a[1].string else { continue }
            if action == "worker_gone" { workers.append(id) } else { ids.append(id) }
        }
        let loaded = try await checkedPipeline(ids.map { RedisCommand("HGETALL", keys.job($0)) })
        let jobs = try zip(ids, loaded).map { id, r throws(QuellError) in try decode(r, id: id) }
        return CleanupResult(cleaned: jobs.count, jobs: jobs, workersGone: workers)
    }

    // MARK: - Decoding

    /// Job `id` from its HGETALL.
    func decode(_ reply: RedisReply, id: String) throws(QuellError) -> Job {
        do {
            return try Job(fields: reply.pairs(), id: id)
        } catch let e as QuellError {
            throw e
        } catch {
            throw .corrupt("\(error)")
        }
    }

    /// A job as the scripts reply with it: `{packed, params}`.
    func decodePacked(_ reply: RedisReply) throws(QuellError) -> Job {
        guard let parts = reply.array, parts.count >= 1, let packed = parts[0].string else {
            throw .corrupt("expected a packed job, got \(reply)")
        }
        do {
            return try Job(packed: packed, params: parts.count > 1 ? parts[1].string : nil)
        } catch let error as QuellError {
            throw error
        } catch {
            throw .corrupt("\(error)")
        }
    }

    func decode(_ fields: [String: String]) throws(QuellError) -> Job {
        do { return try Job(fields: fields) } catch let e as QuellError { throw e } catch { throw .corrupt("\(error)") }
    }

    func expectArray(_ reply: RedisReply, count: Int, _ what: String) throws(QuellError) -> [RedisReply] {
        guard case .array(let a) = reply, a.count == count else {
            throw .corrupt("\(what) script answered \(reply), expected \(count) entries")
        }
        return a
    }
}
