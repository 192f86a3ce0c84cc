import FoundationEssentials

/// A job a worker has started: the job and the lease that proves this run
/// owns it (every later write from the worker must present it).
package struct StartedJob: Sendable {
    package let job: Job
    package let lease: String
    /// The checkpoint cursor saved by an earlier run (JSON), if any: the
    /// handler continues from it, with the counters saved with it.
    package var cursor: String? = nil
    /// The job as `start` packed it: handed back with the finish
    /// (`FinishReport.startedAs`), it spares Redis reading the whole job.
    package var packed: String? = nil
}

/// How a run ended, as the worker reports it to `finish`.
package struct FinishReport: Sendable {
    package var id: String
    package var lease: String
    /// completed, completedWithErrors, failed or timedOut.
    package var status: JobStatus
    package var error: String?
    package var progress: JobProgress?
    /// The job packed as `start` returned it (`StartedJob.packed`), or nil.
    /// While the job is unchanged since (the usual case for a short job),
    /// finish builds its event from this copy instead of reading the job.
    package var startedAs: String?

    package init(id: String, lease: String, status: JobStatus, error: String? = nil, progress: JobProgress? = nil,
                 startedAs: String? = nil) {
        self.id = id
        self.lease = lease
        self.status = status
        self.error = error
        self.progress = progress
        self.startedAs = startedAs
    }
}

/// A coalesced progress write for one job.
package struct ProgressReport: Sendable {
    package var id: String
    package var lease: String
    package var progress: JobProgress
    /// A checkpoint cursor (JSON) saved with this progress, atomically; nil keeps the last one.
    package var cursor: String?

    package init(id: String, lease: String, progress: JobProgress, cursor: String? = nil) {
        self.id = id
        self.lease = lease
        self.progress = progress
        self.cursor = cursor
    }
}

/// What the store says back to a worker about one of its jobs.
package enum JobSignal: String, Sendable {
    /// Carry on.
    case ok
    /// A cancel was requested: stop at the next checkpoint.
    case cancel
    /// A pause was requested: stop at the next checkpoint, then confirm it.
    case pause
    /// Past its deadline: stop it as timed out.
    case deadline
    /// This run no longer owns the job (reaped, requeued elsewhere, deleted): stop, write nothing.
    case lost
    /// Already terminal: nothing changed.
    case terminal
}

/// A worker's registration, sent with every heartbeat.
package struct WorkerRegistration: Sendable {
    package var id: String
    package var queues: [String]
    package var slots: Int
    package var busy: Int
    package var startedAt: Date

    package init(id: String, queues: [String], slots: Int, busy: Int, startedAt: Date) {
        self.id = id
        self.queues = queues
        self.slots = slots
        self.busy = busy
        self.startedAt = startedAt
    }
}

/// The transitions a worker drives. Each batches many jobs into one script
/// call where a worker naturally has many (start, finish, progress, heartbeat).
extension JobStore {
    /// Takes up to `count` queued jobs — first those this worker claimed with a
    /// blocking pop, then from `queues` in order — and starts them.
    /// Returns the started jobs and the ids dropped (cancelled while queued, deleted, corrupt).
    package func start(worker: String, leasePrefix: String, queues: [String], count: Int) async throws(QuellError)
        -> (started: [StartedJob], skipped: [(id: String, reason: String)]) {
        let arguments = header(nowMS) + startArguments(worker: worker, leasePrefix: leasePrefix, queues: queues, count: count)
        let call = Scripts.start.command(keys: [keys.shard], arguments: arguments)
        return try parseStart(try await mapped { try await redis.runAll(Scripts.library, [call])[0].orThrow() })
    }

    /// Finishes `reports` and starts up to `count` jobs in one call
    /// (`finish_start.lua`), the finish first (the runs that freed the
    /// worker's slots end before the jobs that fill them begin). The worker's
    /// usual step at low concurrency, where a call's fixed cost in Redis is
    /// more than the jobs in it. `finished` is nil when the finish's answer
    /// could not be read (the caller writes those outcomes again: a finish
    /// that did land answers `terminal` the second time); a call that fails
    /// throws, and then neither landed.
    package func finishThenStart(_ reports: [FinishReport], worker: String, leasePrefix: String, queues: [String], count: Int)
        async throws(QuellError) -> (finished: [JobSignal]?, started: [StartedJob], skipped: [(id: String, reason: String)]) {
        if reports.isEmpty {
            let (started, skipped) = try await start(worker: worker, leasePrefix: leasePrefix, queues: queues, count: count)
            return ([], started, skipped)
        }
        let now = nowMS
        var arguments = header(now)
        arguments.append(reports.count)
        arguments += finishArguments(reports, now: now)
        arguments += startArguments(worker: worker, leasePrefix: leasePrefix, queues: queues, count: count)
        let call = Scripts.finishStart.command(keys: [keys.shard], arguments: arguments)
        let reply = try await mapped { try await redis.runAll(Scripts.library, [call])[0].orThrow() }
        guard let parts = reply.array, parts.count == 2 else { throw .corrupt("finish_start script answered \(reply), not two replies") }
        let (started, skipped) = try parseStart(parts[1])
        return (try? parseFinish(parts[0], count: reports.count), started, skipped)
    }

    /// start.lua's arguments after the header.
    private func startArguments(worker: String, leasePrefix: String, queues: [String], count: Int) -> [any RedisArgument] {
        let t = configuration.timeout
        var arguments: [any RedisArgument] = [worker, leasePrefix, count, staleMS, t.base, t.perItem, t.minimum, t.maximum]
        for q in queues { arguments.append(q) }
        return arguments
    }

    private func parseStart(_ reply: RedisReply) throws(QuellError) -> (started: [StartedJob], skipped: [(id: String, reason: String)]) {
        // One flat list of records: 'job', lease, packed, params, cursor | 'skip', id, reason.
        var started: [StartedJob] = []
        var skipped: [(String, String)] = []
        let items = reply.array ?? []
        var i = 0
        while i < items.count {
            switch items[i].string {
            case "job" where i + 4 < items.count:
                guard let lease = items[i + 1].string else { throw .corrupt("start script answered a job without a lease") }
                let job = try decodePacked(.array([items[i + 2], items[i + 3]]))
                let cursor = items[i + 4].string.flatMap { $0.isEmpty ? nil : $0 }
                started.append(StartedJob(job: job, lease: lease, cursor: cursor, packed: items[i + 2].string))
                i += 5
            case "skip" where i + 2 < items.count:
                skipped.append((items[i + 1].string ?? "?", items[i + 2].string ?? "?"))
                i += 3
            default:
                throw .corrupt("start script answered \(reply), not 'job' and 'skip' records")
            }
        }
        return (started, skipped)
    }

    /// Records how runs ended; one signal per report (`.ok`, `.terminal`, `.lost`).
    package func finish(_ reports: [FinishReport]) async throws(QuellError) -> [JobSignal] {
        if reports.isEmpty { return [] }
        let now = nowMS
        let call = Scripts.finish.command(keys: [keys.shard], arguments: header(now) + finishArguments(reports, now: now))
        return try parseFinish(try await mapped { try await redis.runAll(Scripts.library, [call])[0].orThrow() }, count: reports.count)
    }

    /// finish.lua's arguments after the header: 10 per job.
    private func finishArguments(_ reports: [FinishReport], now: Int) -> [any RedisArgument] {
        let completedAt = String(now)
        var arguments: [any RedisArgument] = []
        arguments.reserveCapacity(10 * reports.count)
        for r in reports {
            let error = Job.fieldText(r.error ?? "")
            let progress = r.progress?.json ?? ""
            if let packed = r.startedAs,
               let event = FinishedEvent(startedAs: packed, status: r.status.rawValue, progress: r.progress == nil ? nil : progress,
                                         completedAt: completedAt, error: error) {
                // No error now and none in the copy: the separator alone
                // tells finish.lua there is no error field to write.
                let stored = error.isEmpty && !event.copyHasError ? "\u{1F}" : error
                arguments += [r.id, r.lease, r.status.rawValue, stored, progress, event.version, event.head, event.tail,
                              event.tenant, event.key] as [any RedisArgument]
            } else {
                arguments += [r.id, r.lease, r.status.rawValue, error, progress, "", "", "", "", ""] as [any RedisArgument]
            }
        }
        return arguments
    }

    private func parseFinish(_ reply: RedisReply, count: Int) throws(QuellError) -> [JobSignal] {
        let codes = try expectArray(reply, count: count, "finish")
        return codes.map { code -> JobSignal in
            switch code.string {
            case "ok": return .ok
            case "terminal": return .terminal
            default: return .lost
            }
        }
    }

    /// Writes coalesced progress for many jobs; answers, per job, `.ok`
    /// (with the possibly recomputed deadline), `.cancel`, `.pause` or `.lost`.
    package func progress(_ reports: [ProgressReport]) async throws(QuellError) -> [(signal: JobSignal, deadline: Date?)] {
        if reports.isEmpty { return [] }
        let t = configuration.timeout
        var arguments = header(nowMS)
        arguments += [staleMS, t.base, t.perItem, t.minimum, t.maximum] as [any RedisArgument]
        for r in reports {
            arguments += [r.id, r.lease, r.progress.json, r.progress.total.map(String.init) ?? "", r.cursor ?? ""] as [any RedisArgument]
        }
        let reply = try await mapped { try await redis.run(Scripts.progress, keys: [keys.shard], arguments: arguments) }
        let entries = try expectArray(reply, count: reports.count, "progress")
        return entries.map { e in
            let parts = e.array ?? []
            switch parts.first?.string {
            case "ok":
                let deadline = parts.count > 1 ? parts[1].double.map { Date(timeIntervalSince1970: $0 / 1000) } : nil
                return (.ok, deadline)
            case "cancel": return (.cancel, nil)
            case "pause": return (.pause, nil)
            default: return (.lost, nil)
            }
        }
    }

    /// Refreshes the worker's registration and the heartbeats of its jobs;
    /// answers, per job, `.ok`, `.cancel`, `.pause`, `.deadline` or `.lost`.
    package func heartbeat(_ registration: WorkerRegistration, jobs: [(id: String, lease: String)]) async throws(QuellError) -> [JobSignal] {
        var arguments = header(nowMS)
        arguments += [staleMS, registration.id, registration.queues.joined(separator: ","), registration.slots,
                      registration.busy, registration.startedAt.milliseconds] as [any RedisArgument]
        for j in jobs { arguments += [j.id, j.lease] as [any RedisArgument] }
        let reply = try await mapped { try await redis.run(Scripts.heartbeat, keys: [keys.shard], arguments: arguments) }
        let codes = try expectArray(reply, count: jobs.count, "heartbeat")
        return codes.map { JobSignal(rawValue: $0.string ?? "") ?? .lost }
    }

    /// Confirms a cancelled job has stopped: cancelling → cancelled, with its
    /// counters as they were. Returns `.ok`, `.terminal`, `.lost`, or `.ok`
    /// never for a job that was not cancelling (then the answer is `.lost`).
    package func confirmCancelled(id: String, lease: String, progress: JobProgress?) async throws(QuellError) -> JobSignal {
        var arguments = header(nowMS)
        arguments += [id, lease, progress?.json ?? ""] as [any RedisArgument]
        let reply = try await mapped { try await redis.run(Scripts.confirmCancel, keys: [keys.shard], arguments: arguments) }
        switch reply.string {
        case "ok": return .ok
        case "terminal": return .terminal
        default: return .lost
        }
    }

    /// Puts a running job back in its queue: after `delay` seconds for a retry
    /// (attempt counted), or at once at the front without spending the attempt
    /// (`refund`, for shutdown). `.cancel` means it is being cancelled: confirm instead.
    package func retry(id: String, lease: String, delay: Double, error: String, progress: JobProgress?,
                      refund: Bool, cursor: String? = nil) async throws(QuellError) -> JobSignal {
        var arguments = header(nowMS)
        arguments += [id, lease, Int(delay * 1000), Job.fieldText(error), progress?.json ?? "", refund ? "1" : "0",
                      cursor ?? ""] as [any RedisArgument]
        let reply = try await mapped { try await redis.run(Scripts.retry, keys: [keys.shard], arguments: arguments) }
        switch reply.string {
        case "ok": return .ok
        case "cancel": return .cancel
        case "pause": return .pause
        case "terminal": return .terminal
        default: return .lost
        }
    }

    /// Confirms a pausing job has stopped at a checkpoint: pausing → paused,
    /// with its progress and cursor written with the status (the run after a
    /// resume continues from them). Returns `.ok`, `.cancel` (a cancel came
    /// after the pause: confirm that instead), `.terminal` or `.lost`.
    package func confirmPaused(id: String, lease: String, progress: JobProgress?, cursor: String?) async throws(QuellError) -> JobSignal {
        var arguments = header(nowMS)
        arguments += [id, lease, progress?.json ?? "", cursor ?? ""] as [any RedisArgument]
        let reply = try await mapped { try await redis.run(Scripts.confirmPause, keys: [keys.shard], arguments: arguments) }
        switch reply.string {
        case "ok": return .ok
        case "cancel": return .cancel
        case "terminal": return .terminal
        default: return .lost
        }
    }

    /// The hard stop: closes a job whose handler did not stop within the
    /// cancel grace (`abandon.lua`): cancelling → `cancelled` and running →
    /// `timed_out`, both with cancel reason `forced`; pausing → `paused`.
    /// Returns the status it gave, or nil when the job was not this run's any
    /// more (terminal already, or another lease).
    package func abandon(id: String, lease: String, progress: JobProgress?, cursor: String?) async throws(QuellError) -> JobStatus? {
        var arguments = header(nowMS)
        arguments += [id, lease, Self.formatSeconds(configuration.cancelGrace), progress?.json ?? "", cursor ?? ""] as [any RedisArgument]
        let reply = try await mapped { try await redis.run(Scripts.abandon, keys: [keys.shard], arguments: arguments) }
        return reply.string.flatMap(JobStatus.init(rawValue:))
    }

    /// `30`, `1.5`: seconds as people write them.
    package static func formatSeconds(_ s: Double) -> String {
        s == s.rounded() && abs(s) < 1e15 ? String(Int(s)) : String(s)
    }

    /// One reaper sweep: resolves due stuck jobs and expired workers.
    /// Returns what it did, `(action, id)`.
    /// `ownJobs`: the jobs the calling process runs itself, which its own
    /// heartbeat speaks for: never judged by its own reaper.
    package func reap(limit: Int = 1000, ownJobs: [String] = []) async throws(QuellError) -> [(action: String, id: String)] {
        var arguments = header(nowMS)
        arguments += [staleMS, limit] as [any RedisArgument]
        for id in ownJobs { arguments.append(id) }
        let reply = try await mapped { try await redis.run(Scripts.reap, keys: [keys.shard], arguments: arguments) }
        return (reply.array ?? []).compactMap { e in
            guard let a = e.array, a.count == 2, let action = a[0].string, let id = a[1].string else { return nil }
            return (action, id)
        }
    }

    /// Removes a worker's registration at its shutdown: marks it expired and
    /// sweeps, so anything it claimed but never started returns to its queue
    /// (the same atomic path as a dead worker's claims).
    package func deregister(worker id: String) async throws(QuellError) {
        _ = try await mapped { try await redis.send(RedisCommand("ZADD", keys.workers, 0, id)) }
        _ = try await reap()
    }

    /// Deletes terminal jobs finished more than `configuration.retention`
    /// seconds ago (at most `limit` per tenant and status); returns how many.
    package func expireFinished(limit: Int = 500) async throws(QuellError) -> Int {
        let cutoff = clock.now().addingTimeInterval(-configuration.retention)
        var arguments = header(nowMS)
        arguments += [cutoff.milliseconds, JobID.timePrefix(cutoff), limit] as [any RedisArgument]
        let reply = try await mapped { try await redis.run(Scripts.expire, keys: [keys.shard], arguments: arguments) }
        return reply.int ?? 0
    }

    /// Moves due delayed retries back to their queues; returns how many.
    package func forward(queues: [String], limit: Int = 1000) async throws(QuellError) -> Int {
        var arguments = header(nowMS)
        arguments.append(limit)
        for q in queues { arguments.append(q) }
        let reply = try await mapped { try await redis.run(Scripts.forward, keys: [keys.shard], arguments: arguments) }
        return reply.int ?? 0
    }
}
