import FoundationEssentials
import Glibc

/// Where a job is in its life. See DESIGN.md "Job lifecycle".
public enum JobStatus: String, Sendable, Codable, CaseIterable {
    /// Waiting in its queue (or for a delayed retry).
    case queued
    /// A worker runs it.
    case running
    /// A cancel was requested; its worker stops it at the next checkpoint.
    case cancelling
    /// A pause was requested; its worker stops it at the next checkpoint,
    /// keeping its cursor, and it becomes `paused`.
    case pausing
    /// Stopped until resumed: holds its dedupe key, keeps its cursor and
    /// counters, has no heartbeat or deadline; `resume` puts it back in its queue.
    case paused
    /// Terminal: the handler returned `.completed`.
    case completed
    /// Terminal: the handler returned `.completedWithErrors` (some items failed).
    case completedWithErrors = "completed_with_errors"
    /// Terminal: the handler threw with no attempts left, or its params did not decode.
    case failed
    /// Terminal: cancelled (before it started, or stopped at a checkpoint).
    case cancelled
    /// Terminal: it ran past its deadline, or was stuck.
    case timedOut = "timed_out"

    /// Terminal statuses are final: nothing changes them again (invariant 1).
    public var isTerminal: Bool {
        switch self {
        case .queued, .running, .cancelling, .pausing, .paused: return false
        default: return true
        }
    }

    /// The statuses in the order dashboards list them.
    public static let displayOrder: [JobStatus] = [.queued, .running, .cancelling, .pausing, .paused, .completed,
                                                   .completedWithErrors, .failed, .cancelled, .timedOut]
}

/// What a handler last reported about its work.
public struct JobProgress: Sendable, Equatable, Codable {
    /// What the handler is doing, e.g. `listing_items`.
    public var stage: String?
    /// `current / total` as a percentage, when both are known.
    public var percent: Double?
    /// Items done so far.
    public var current: Int?
    /// Items in all (also what the adaptive deadline is computed from).
    public var total: Int?
    /// Named counters (`synced`, `failed`, …); kept as they were when a job stops.
    public var counters: [String: Int]

    /// Progress from its parts.
    public init(stage: String? = nil, percent: Double? = nil, current: Int? = nil, total: Int? = nil, counters: [String: Int] = [:]) {
        self.stage = stage
        self.percent = percent
        self.current = current
        self.total = total
        self.counters = counters
    }

    /// Compact JSON, as stored in the job hash and events.
    public var json: String {
        var w = JSONWriter(capacity: 96)
        write(to: &w)
        return w.string
    }

    func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("stage"); w.string(stage)
        w.key("percent"); if let percent { w.double((percent * 10).rounded() / 10) } else { w.null() }
        w.key("current"); if let current { w.int(current) } else { w.null() }
        w.key("total"); if let total { w.int(total) } else { w.null() }
        w.key("counters")
        w.beginObject()
        for name in counters.keys.sorted() {
            w.key(name)
            w.int(counters[name]!)
        }
        w.endObject()
        w.endObject()
    }

    static func parse(_ text: String) throws -> JobProgress {
        guard let value = try? JSONValue.parse(text), case .object(let o) = value else {
            throw QuellError.corrupt("progress is not a JSON object: \(text.prefix(80))")
        }
        var counters: [String: Int] = [:]
        if case .object(let c)? = o["counters"] {
            for (k, v) in c { if let i = v.intValue { counters[k] = i } }
        }
        return JobProgress(stage: o["stage"]?.stringValue, percent: o["percent"]?.doubleValue,
                           current: o["current"]?.intValue, total: o["total"]?.intValue, counters: counters)
    }
}

/// A cancel request recorded on a job.
public struct CancelRequest: Sendable, Equatable {
    /// When the cancel was asked for.
    public var requestedAt: Date
    /// Why: `user` by default, or what the caller gave; `forced` when the
    /// handler did not stop within the cancel grace and was abandoned
    /// (also on a `timed_out` job whose handler ignored its deadline).
    public var reason: String
}

/// One job, as stored in Redis and as every consumer shows it.
public struct Job: Sendable, Equatable {
    /// The job id (26 characters, sorting by creation time; see `JobID`).
    public var id: String
    /// The task type, e.g. `demo.sync`: which handler runs it.
    public var type: String
    /// The queue it was enqueued on.
    public var queue: String
    /// The tenant it belongs to.
    public var tenant: String
    /// Its dedupe key, if it has one.
    public var key: String?
    /// Where it is in its life.
    public var status: JobStatus
    /// The parameters as JSON text (nil when the job has none, or in an event).
    public var params: String?
    /// What the handler last reported; nil before the first report of a run.
    public var progress: JobProgress?
    /// Runs started so far (1 during the first run).
    public var attempt: Int
    /// Runs allowed before a failing job is `failed`.
    public var maxAttempts: Int
    /// Bumped by every change (each change is one event): keep the highest seen.
    public var version: Int
    /// When it was enqueued.
    public var createdAt: Date
    /// When its current (or last) run started.
    public var startedAt: Date?
    /// When its worker last beat for it.
    public var heartbeatAt: Date?
    /// When it reached its terminal status.
    public var completedAt: Date?
    /// When a running job is stopped as `timed_out`.
    public var deadlineAt: Date?
    /// The seconds its deadline allows (adaptive or fixed).
    public var expectedDurationSeconds: Double?
    /// The id of the worker that runs (or last ran) it.
    public var worker: String?
    /// Why its last run failed, or why it is `failed` / `timed_out`.
    public var error: String?
    /// The cancel asked for, if any.
    public var cancel: CancelRequest?
    /// A fixed timeout in seconds chosen at enqueue, instead of the adaptive one.
    public var timeoutSeconds: Double?
    /// String headers carried from enqueue to the handler unchanged, e.g. W3C
    /// trace context (`traceparent`, `tracestate`) or a request id.
    public var headers: [String: String] = [:]
    /// When it was paused, while it is `paused`.
    public var pausedAt: Date?
    /// How many times it was resumed after a pause.
    public var resumes: Int = 0

    /// A packed job's values, in order (events and script replies carry jobs
    /// this way, all but `params`): the id, the spec's (`specNames`), then
    /// the hash fields of their own.
    static let fieldNames = ["id"] + specNames + ["tenant", "timeout", "status", "progress", "attempt", "version", "started_at",
                             "heartbeat_at", "completed_at", "deadline_at", "expected", "worker", "lease", "error",
                             "cancel_at", "cancel_reason", "total", "paused_at", "resumes"]

    /// What never changes and start does not read, stored in one hash field,
    /// `spec`, joined by 0x1F (see SPEC_FIELDS in lib.lua). A job stored by
    /// an older Quell holds these (and its id) as hash fields of their own.
    static let specNames = ["type", "queue", "key", "max_attempts", "created_at", "headers"]

    /// Decodes a job from its hash fields (HGETALL of the key of job `id`,
    /// which the hash holds only if an older Quell stored it). Missing or
    /// malformed fields are a clear `QuellError.corrupt`, never a crash.
    package init(fields f: [String: String], id: String? = nil) throws {
        var spec: [Substring] = []
        if let text = f["spec"] {
            spec = text.split(separator: "\u{1F}", omittingEmptySubsequences: false)
            guard spec.count == Self.specNames.count else {
                throw QuellError.corrupt("job \(id ?? f["id"] ?? "?") has a spec of \(spec.count) fields, expected \(Self.specNames.count)")
            }
        }
        try self.init(field: { i in
            if i == Position.id { return f["id"] ?? id }
            // A field of its own (an older Quell's job) or the spec's.
            if i <= spec.count, let named = f[Self.fieldNames[i]] { return named }
            return i <= spec.count ? String(spec[i - 1]) : f[Self.fieldNames[i]]
        }, params: f["params"])
    }

    /// Positions in `fieldNames` (and in a packed job) of the fields read by name
    /// (the decoder below, `FinishedEvent`).
    enum Position {
        static let id = 0, type = 1, queue = 2, key = 3, maxAttempts = 4, createdAt = 5, headers = 6, tenant = 7,
                   timeout = 8, status = 9, progress = 10, attempt = 11, version = 12, startedAt = 13,
                   heartbeatAt = 14, completedAt = 15, deadlineAt = 16, expected = 17, worker = 18, error = 20,
                   cancelAt = 21, cancelReason = 22, pausedAt = 24, resumes = 25
    }

    /// The one decoder: `field(i)` is the value of `fieldNames[i]`, nil or
    /// empty when absent. By position, so a packed job (a worker decodes one
    /// per job it starts) costs no dictionary.
    private init(field: (Int) -> String?, params: String?) throws {
        func value(_ i: Int) -> String? {
            guard let v = field(i), !v.isEmpty else { return nil }
            return v
        }
        let jobID = value(Position.id)
        func required(_ i: Int) throws -> String {
            guard let v = value(i) else {
                throw QuellError.corrupt("job \(jobID ?? "?") has no '\(Self.fieldNames[i])' field")
            }
            return v
        }
        func int(_ i: Int) throws -> Int {
            let text = try required(i)
            guard let v = Int(text) else {
                throw QuellError.corrupt("job \(jobID ?? "?") field '\(Self.fieldNames[i])' is not a number: \(text.prefix(40))")
            }
            return v
        }
        func date(_ i: Int) throws -> Date? {
            guard let text = value(i) else { return nil }
            guard let ms = Int(text) else {
                throw QuellError.corrupt("job \(jobID ?? "?") field '\(Self.fieldNames[i])' is not a time: \(text.prefix(40))")
            }
            return Date(timeIntervalSince1970: Double(ms) / 1000)
        }
        id = try required(Position.id)
        type = try required(Position.type)
        queue = try required(Position.queue)
        tenant = try required(Position.tenant)
        key = value(Position.key)
        let statusText = try required(Position.status)
        guard let s = JobStatus(rawValue: statusText) else {
            throw QuellError.corrupt("job \(id) has unknown status '\(statusText.prefix(40))'")
        }
        status = s
        self.params = params.flatMap { $0.isEmpty ? nil : $0 }
        progress = try value(Position.progress).map(JobProgress.parse)
        attempt = try int(Position.attempt)
        maxAttempts = try int(Position.maxAttempts)
        version = try int(Position.version)
        guard let created = try date(Position.createdAt) else { throw QuellError.corrupt("job \(id) has no 'created_at' field") }
        createdAt = created
        startedAt = try date(Position.startedAt)
        heartbeatAt = Self.lastBeat(status: status, heartbeat: try date(Position.heartbeatAt), started: startedAt)
        completedAt = try date(Position.completedAt)
        deadlineAt = try date(Position.deadlineAt)
        // Stored by an older Quell; now the deadline less the run's start
        // (in whole ms, as stored: exact where the dates' doubles are not).
        expectedDurationSeconds = value(Position.expected).flatMap(Double.init) ?? {
            guard let d = value(Position.deadlineAt).flatMap({ Int($0) }),
                  let s = value(Position.startedAt).flatMap({ Int($0) }) else { return nil }
            return Double(d - s) / 1000
        }()
        worker = value(Position.worker)
        error = value(Position.error)
        if let at = try date(Position.cancelAt) {
            cancel = CancelRequest(requestedAt: at, reason: value(Position.cancelReason) ?? "user")
        }
        timeoutSeconds = value(Position.timeout).flatMap(Double.init)
        pausedAt = try date(Position.pausedAt)
        resumes = value(Position.resumes).flatMap { Int($0) } ?? 0
        if let text = value(Position.headers) {
            guard case .object(let o)? = try? JSONValue.parse(text) else {
                throw QuellError.corrupt("job \(id) field 'headers' is not a JSON object: \(text.prefix(40))")
            }
            for (name, value) in o { if let s = value.stringValue { headers[name] = s } }
        }
    }

    /// A job's last sign of life: its last heartbeat, or its run's start while
    /// no heartbeat came after it (start.lua writes no `heartbeat_at`, the
    /// start being the run's first beat). None while queued or paused: those
    /// have no run, and their heartbeat was cleared.
    static func lastBeat(status: JobStatus?, heartbeat: Date?, started: Date?) -> Date? {
        if status == .queued || status == .paused { return heartbeat }
        guard let started else { return heartbeat }
        guard let heartbeat else { return started }
        return max(heartbeat, started)
    }

    /// Headers as stored: a compact JSON object with sorted keys, or "" for none.
    static func headersText(_ headers: [String: String]) -> String {
        if headers.isEmpty { return "" }
        var w = JSONWriter(capacity: 64)
        writeHeaders(headers, to: &w)
        return w.string
    }

    /// The separator of a packed job (see `pack` in lib.lua).

    /// Decodes a job packed by the scripts: the `fieldNames` values in order,
    /// joined by 0x1F (events and script replies carry jobs this way).
    package init(packed: String, params: String? = nil) throws {
        // Each value is made a String only when decoded: no array of
        // substrings (each holding the packed string) per job started.
        var text = packed
        let count = Self.fieldNames.count
        self = try text.withUTF8 { bytes throws -> Job in
            let (bounds, n) = Self.packedFieldBounds(bytes)
            guard n == count else {
                let found = n > count ? "more than \(count)" : "\(n)"
                throw QuellError.corrupt("packed job has \(found) fields, expected \(count): \(packed.prefix(60))")
            }
            return try Job(field: { i in
                let range = bounds[i] ..< bounds[i + 1] - 1
                return range.isEmpty ? nil : String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
            }, params: params)
        }
    }

    /// Where the fields of a packed job lie, found in one pass over its bytes:
    /// field i is `bounds[i] ..< bounds[i + 1] - 1` when `fields` is
    /// `fieldNames.count`; `fields` counts up to one more than that (too many).
    static func packedFieldBounds(_ bytes: UnsafeBufferPointer<UInt8>) -> (bounds: [Int], fields: Int) {
        let count = fieldNames.count
        var bounds = [Int](repeating: 0, count: count + 1)
        var n = 1
        for (i, b) in bytes.enumerated() where b == 0x1F {
            if n == count { return (bounds, n + 1) }
            bounds[n] = i + 1
            n += 1
        }
        if n == count { bounds[count] = bytes.count + 1 }
        return (bounds, n)
    }

    /// Text safe to store in a job field: the pack separator (and other
    /// control characters but newline and tab) replaced by spaces.
    package static func fieldText(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 32 && $0 != "\n" && $0 != "\t" }) else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 32 && $0 != "\n" && $0 != "\t" ? " " : $0 }))
    }

    /// The job as JSON, in the shape of DESIGN.md "HTTP API": snake_case,
    /// RFC 3339 UTC times, explicit nulls. The one encoder every consumer uses.
    public var json: String {
        var w = JSONWriter(capacity: 512)
        write(to: &w)
        return w.string
    }

    /// `json` as UTF-8 bytes.
    public var jsonBytes: [UInt8] {
        var w = JSONWriter(capacity: 512)
        write(to: &w)
        return w.bytes
    }

    /// Writes the job object into a larger document.
    package func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("id"); w.string(id)
        w.key("type"); w.string(type)
        w.key("queue"); w.string(queue)
        w.key("tenant"); w.string(tenant)
        w.key("key"); w.string(key)
        w.key("status"); w.string(status.rawValue)
        w.key("params")
        if let params { w.raw(params) } else { w.null() }
        w.key("progress")
        if let progress { progress.write(to: &w) } else { w.null() }
        w.key("attempt"); w.int(attempt)
        w.key("max_attempts"); w.int(maxAttempts)
        w.key("version"); w.int(version)
        w.key("created_at"); w.string(Self.rfc3339(createdAt))
        w.key("started_at"); w.string(startedAt.map(Self.rfc3339))
        w.key("heartbeat_at"); w.string(heartbeatAt.map(Self.rfc3339))
        w.key("completed_at"); w.string(completedAt.map(Self.rfc3339))
        w.key("deadline_at"); w.string(deadlineAt.map(Self.rfc3339))
        w.key("expected_duration_seconds")
        if let e = expectedDurationSeconds { w.double(e) } else { w.null() }
        w.key("worker"); w.string(worker)
        w.key("error"); w.string(error)
        w.key("cancel")
        if let cancel {
            w.beginObject()
            w.key("requested_at"); w.string(Self.rfc3339(cancel.requestedAt))
            w.key("reason"); w.string(cancel.reason)
            w.endObject()
        } else {
            w.null()
        }
        w.key("headers")
        Self.writeHeaders(headers, to: &w)
        w.key("paused_at"); w.string(pausedAt.map(Self.rfc3339))
        w.key("resumes"); w.int(resumes)
        w.endObject()
    }

    /// A headers map as a JSON object with sorted keys.
    static func writeHeaders(_ headers: [String: String], to w: inout JSONWriter) {
        w.beginObject()
        for name in headers.keys.sorted() {
            w.key(name)
            w.string(headers[name]!)
        }
        w.endObject()
    }

    /// `2026-11-24T01:02:03.456Z`: RFC 3339, UTC, milliseconds.
    package static func rfc3339(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var t = time_t(ms / 1000)
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ v: Int32, _ n: Int) -> String {
            let s = String(v)
            return s.count >= n ? s : String(repeating: "0", count: n - s.count) + s
        }
        let millis = Int32(ms % 1000)
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(millis, 3))Z"
    }
}
