import FoundationEssentials
import Quell

/// `quell jobs list | show | cancel | pause | resume | cleanup`: one-shot operator commands.
/// Human output is an aligned table or a field list; `--json` prints jobs
/// with `Job.json`. Admin-level (every tenant) unless `--tenant` is given.
enum JobsCommand {
    static func list(_ o: JobsListOptions) async -> Int32 {
        await runStoreCommand("quell jobs list", o.redis) { store in
            let tenant = try validTenant(o.tenant)
            let status = o.status.flatMap(JobStatus.init(rawValue:))
            if let cursor = o.cursor, !JobID.isValid(cursor) {
                throw UsageError("invalid value '\(cursor.prefix(40))' for --cursor: expected a job id", command: [])
            }
            // The store pages at most 1000 at a time; --limit may ask for more.
            var jobs: [Job] = []
            var cursor = o.cursor
            var next: String? = nil
            repeat {
                let page = try await store.jobs(status: status, key: o.key, tenant: tenant,
                                                limit: min(1000, o.limit - jobs.count), cursor: cursor)
                jobs += page.jobs
                next = page.nextCursor
                cursor = next
            } while next != nil && jobs.count < o.limit
            if o.json {
                var w = JSONWriter(capacity: 256 + 600 * jobs.count)
                w.beginObject()
                w.key("jobs")
                w.beginArray()
                for job in jobs { job.write(to: &w) }
                w.endArray()
                w.key("next_cursor")
                w.string(next)
                w.endObject()
                printOutput(w.string)
            } else if jobs.isEmpty {
                printError("no jobs")
            } else {
                printOutput(JobText.table(jobs))
                if let next { printError("more: quell jobs list --cursor \(next)") }
            }
        }
    }

    static func show(_ o: JobsShowOptions) async -> Int32 {
        await runStoreCommand("quell jobs show", o.redis) { store in
            let job = try await store.job(id: o.id, tenant: try validTenant(o.tenant))
            printOutput(o.json ? job.json : JobText.details(job, keys: store.keys))
        }
    }

    /// Queued → cancelled at once; running → cancelling, and with `--wait`
    /// polls (every 50 ms) until it is no longer cancelling or the wait ends.
    static func cancel(_ o: JobsCancelOptions) async -> Int32 {
        await runStoreCommand("quell jobs cancel", o.redis) { store in
            let tenant = try validTenant(o.tenant)
            var job = try await store.cancel(id: o.id, tenant: tenant)
            if let wait = o.waitSeconds { job = try await waitWhile(.cancelling, job, seconds: wait, store: store, tenant: tenant) }
            if o.json {
                printOutput(job.json)
            } else {
                let note: String
                switch job.status {
                case .cancelled: note = "cancelled"
                case .cancelling:
                    note = o.waitSeconds == nil
                        ? "cancelling: the worker stops it at its next checkpoint"
                        : "still cancelling after \(o.waitSeconds!)s: the worker stops it at its next checkpoint"
                default: note = "ended as \(job.status.rawValue) before the cancel took effect"
                }
                printOutput("job \(job.id) \(note)\n\n" + JobText.details(job, keys: store.keys))
            }
        }
    }

    /// Queued → paused at once; running → pausing, and with `--wait` polls
    /// (every 50 ms) until it is no longer pausing or the wait ends.
    static func pause(_ o: JobsPauseOptions) async -> Int32 {
        await runStoreCommand("quell jobs pause", o.redis) { store in
            let tenant = try validTenant(o.tenant)
            var job = try await store.pause(id: o.id, tenant: tenant)
            if let wait = o.waitSeconds { job = try await waitWhile(.pausing, job, seconds: wait, store: store, tenant: tenant) }
            if o.json {
                printOutput(job.json)
                return
            }
            let note: String
            switch job.status {
            case .paused: note = "paused: resume it with quell jobs resume \(job.id)"
            case .pausing:
                note = o.waitSeconds == nil
                    ? "pausing: the worker stops it at its next checkpoint, keeping its cursor"
                    : "still pausing after \(o.waitSeconds!)s: the worker stops it at its next checkpoint"
            default: note = "ended as \(job.status.rawValue) before the pause took effect"
            }
            printOutput("job \(job.id) \(note)\n\n" + JobText.details(job, keys: store.keys))
        }
    }

    /// Paused → queued (continues from its cursor); queued or running: as it is.
    static func resume(_ o: JobsPauseOptions) async -> Int32 {
        await runStoreCommand("quell jobs resume", o.redis) { store in
            let job = try await store.resume(id: o.id, tenant: try validTenant(o.tenant))
            if o.json {
                printOutput(job.json)
                return
            }
            let note = job.status == .queued && job.resumes > 0
                ? "resumed (\(job.resumes) time\(job.resumes == 1 ? "" : "s")): queued, to continue from its cursor"
                : "is \(job.status.rawValue): nothing to resume"
            printOutput("job \(job.id) \(note)\n\n" + JobText.details(job, keys: store.keys))
        }
    }

    /// Re-reads `job` every 50 ms while it is in `status`, for at most `seconds`.
    private static func waitWhile(_ status: JobStatus, _ job: Job, seconds: Double, store: JobStore,
                                  tenant: String?) async throws -> Job {
        var job = job
        let clock = ContinuousClock()
        let end = clock.now + .milliseconds(Int64(seconds * 1000))
        while job.status == status, clock.now < end {
            try await Task.sleep(for: min(.milliseconds(50), end - clock.now))
            job = try await store.job(id: job.id, tenant: tenant)
        }
        return job
    }

    /// Closes stuck jobs now (stale heartbeat or past deadline) and, for
    /// every tenant, buries expired workers; prints what it did.
    static func cleanup(_ o: JobsCleanupOptions) async -> Int32 {
        await runStoreCommand("quell jobs cleanup", o.redis, reaper: o.reaper) { store in
            let result = try await store.cleanup(tenant: try validTenant(o.tenant))
            if o.json {
                printOutput(String(decoding: result.json(includeWorkersGone: true), as: UTF8.self))
                return
            }
            var out = result.cleaned == 0
                ? "no stuck jobs\n"
                : "closed \(result.cleaned) stuck job\(result.cleaned == 1 ? "" : "s"):\n\n"
            if !result.jobs.isEmpty {
                var table = TextTable([
                    .init(title: "ID"), .init(title: "NOW"), .init(title: "TYPE", maxWidth: 32),
                    .init(title: "TENANT", maxWidth: 24), .init(title: "KEY", maxWidth: 40),
                    .init(title: "REASON", maxWidth: 80),
                ])
                for job in result.jobs {
                    table.append([job.id, job.status.rawValue, job.type, job.tenant, job.key ?? "-",
                                  job.error ?? (job.cancel.map { "cancel requested (\($0.reason))" } ?? "-")])
                }
                out += table.render()
            }
            if !result.workersGone.isEmpty {
                out += "\nexpired workers removed (their claimed jobs went back to the queues): "
                    + result.workersGone.map { MonitorRenderer.clean($0) }.joined(separator: ", ") + "\n"
            }
            printOutput(out)
        }
    }
}
