import FoundationEssentials

/// A request to run a job.
public struct EnqueueRequest: Sendable {
    /// The task type, e.g. `demo.sync`: which handler runs it.
    public var type: String
    /// Parameters as JSON text (an object), handed to the handler.
    public var params: String
    /// The tenant it belongs to (`default` unless given).
    public var tenant: String
    /// Dedupe key (tenant-scoped): at most one non-terminal job per key.
    public var key: String?
    /// The queue to run it from.
    public var queue: String
    /// Runs allowed (1–100) before a failing job is `failed`.
    public var maxAttempts: Int
    /// A fixed timeout in seconds, instead of the adaptive one.
    public var timeout: Double?
    /// The id to use; generated (time-ordered) when nil.
    public var id: String?
    /// String headers handed to the handler (`JobContext.headers`), e.g. trace
    /// context. At most 32, names 1–64 printable characters, values up to 1024.
    public var headers: [String: String] = [:]

    /// A request; `params` (an object) defaults to `{}`. See also
    /// `EnqueueRequest(_:tenant:key:…)` for a typed task's parameters.
    public init(type: String, params: JSONValue? = nil, tenant: String = "default", key: String? = nil,
                queue: String = "default", maxAttempts: Int = 3, timeout: Double? = nil, id: String? = nil) {
        self.type = type
        self.params = (params ?? .object([:])).jsonString
        self.tenant = tenant
        self.key = key
        self.queue = queue
        self.maxAttempts = maxAttempts
        self.timeout = timeout
        self.id = id
    }

    /// Throws `QuellError.invalid` naming the first bad field.
    public func validate() throws {
        let t = type.utf8
        if t.isEmpty || t.count > 128 || t.contains(where: { $0 < 33 || $0 == 127 }) {
            throw QuellError.invalid("type must be 1-128 printable characters without spaces")
        }
        try QuellConfiguration.validateName(tenant, what: "tenant")
        try QuellConfiguration.validateName(queue, what: "queue")
        if let key {
            if key.isEmpty || key.utf8.count > 256 || key.utf8.contains(where: { $0 < 32 || $0 == 127 }) {
                throw QuellError.invalid("key must be 1-256 characters without control characters")
            }
        }
        if !(1...100).contains(maxAttempts) { throw QuellError.invalid("max_attempts must be from 1 to 100") }
        if headers.count > 32 { throw QuellError.invalid("at most 32 headers") }
        for (name, value) in headers {
            if name.isEmpty || name.utf8.count > 64 || name.utf8.contains(where: { $0 < 33 || $0 == 127 }) {
                throw QuellError.invalid("header names must be 1-64 printable characters without spaces")
            }
            if value.utf8.count > 1024 || value.utf8.contains(where: { ($0 < 32 && $0 != 9) || $0 == 127 }) {
                throw QuellError.invalid("header '\(name.prefix(64))' must be at most 1024 characters without control characters")
            }
        }
        if let timeout, !(timeout > 0 && timeout <= 30 * 86_400) {
            throw QuellError.invalid("timeout must be a number of seconds from 0 to 2592000")
        }
        if let id, !JobID.isValid(id) { throw QuellError.invalid("id must be a 26-character job id") }
    }
}

/// One page of a job listing, newest first.
public struct JobPage: Sendable {
    /// The jobs on this page, newest first.
    public var jobs: [Job]
    /// Pass as `cursor` to get the next page; nil on the last page.
    public var nextCursor: String?
}

/// How many jobs wait in one queue.
public struct QueueDepth: Sendable, Equatable {
    /// The queue's name.
    public var name: String
    /// Ids in the queue list, ready to start.
    public var depth: Int
    /// Delayed retries not yet due.
    public var scheduled: Int
}

/// A worker's registration, refreshed with every heartbeat.
public struct WorkerInfo: Sendable, Equatable {
    /// The worker's id (`host:pid:<random>` by default).
    public var id: String
    /// The queues it takes jobs from, in priority order.
    public var queues: [String]
    /// How many jobs it runs at once.
    public var slots: Int
    /// How many it ran at its last heartbeat.
    public var busy: Int
    /// When it started.
    public var startedAt: Date?
    /// When it last beat.
    public var lastBeat: Date?
    /// When the registration expires unless the worker beats again.
    public var expiresAt: Date
}

/// Counts per status (O(1) each), queue depths and live workers.
public struct QueueStats: Sendable {
    /// Jobs stored now, per status (the janitor's deletions lower these).
    public var counts: [JobStatus: Int]
    /// Every queue seen, with its depth.
    public var queues: [QueueDepth]
    /// Live workers (registration not expired).
    public var workers: [WorkerInfo]
    /// Jobs that ever reached each terminal status, all tenants: never decreases.
    public var finishedTotals: [JobStatus: Int] = [:]
    /// Jobs that ever became `paused`, all tenants: never decreases.
    public var pausesTotal = 0
    /// Resumes ever, all tenants: never decreases.
    public var resumesTotal = 0
    /// Handlers ever abandoned after the cancel grace (hard stops), all tenants.
    public var forcedStopsTotal = 0

    /// `{counts, queues, workers}`: the API's `/v1/stats` body.
    package var json: String {
        var w = JSONWriter()
        w.beginObject()
        w.key("counts")
        w.beginObject()
        for s in JobStatus.displayOrder {
            w.key(s.rawValue)
            w.int(counts[s] ?? 0)
        }
        w.endObject()
        w.key("queues")
        w.beginArray()
        for q in queues {
            w.beginObject()
            w.key("name"); w.string(q.name)
            w.key("depth"); w.int(q.depth)
            w.key("scheduled"); w.int(q.scheduled)
            w.endObject()
        }
        w.endArray()
        w.key("workers")
        w.beginArray()
        for x in workers {
            w.beginObject()
            w.key("id"); w.string(x.id)
            w.key("queues"); w.beginArray(); for q in x.queues { w.string(q) }; w.endArray()
            w.key("slots"); w.int(x.slots)
            w.key("busy"); w.int(x.busy)
            w.key("started_at"); w.string(x.startedAt.map(Job.rfc3339))
            w.key("last_beat"); w.string(x.lastBeat.map(Job.rfc3339))
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.string
    }
}

/// One entry of the events stream: the job as it was right after a change.
public struct JobEvent: Sendable, Equatable {
    /// The stream id (`1732412345678-0`): resume after it with `events(after:)`.
    public var id: String
    /// The job at that version (without `params`).
    public var job: Job
}

/// What a cleanup closed or requeued.
public struct CleanupResult: Sendable {
    /// How many jobs it closed or requeued.
    public var cleaned: Int
    /// Those jobs, as they are now.
    public var jobs: [Job]
    /// Workers whose registration had expired; their claims went back to the queues.
    public var workersGone: [String]

    /// `{"cleaned": N, "jobs": [...]}` (plus `"workers_gone"` when asked):
    /// the one encoder the API and the CLI share.
    package func json(includeWorkersGone: Bool) -> [UInt8] {
        var w = JSONWriter(capacity: 64 + 700 * jobs.count)
        w.beginObject()
        w.key("cleaned"); w.int(cleaned)
        w.key("jobs")
        w.beginArray()
        for job in jobs { job.write(to: &w) }
        w.endArray()
        if includeWorkersGone {
            w.key("workers_gone")
            w.beginArray()
            for worker in workersGone { w.string(worker) }
            w.endArray()
        }
        w.endObject()
        return w.bytes
    }
}
