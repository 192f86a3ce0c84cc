import FoundationEssentials

/// Everything the monitor shows at one instant, as plain values: filled from
/// Redis by the monitor command, rendered by `MonitorRenderer`, printed as
/// JSON by `quell monitor --json` (snake_case keys, RFC 3339 UTC dates to
/// the second, absent optionals as `null`).
public struct MonitorSnapshot: Sendable, Codable, Equatable {
    /// A job status, spelled as in Redis and the HTTP API.
    public enum Status: String, Sendable, Codable, CaseIterable {
        case queued, running, cancelling, pausing, paused, completed
        case completedWithErrors = "completed_with_errors"
        case failed, cancelled
        case timedOut = "timed_out"
    }

    /// How many jobs are in each status.
    public struct StatusCounts: Sendable, Codable, Equatable {
        public var queued: Int
        public var running: Int
        public var cancelling: Int
        public var pausing: Int
        public var paused: Int
        public var completed: Int
        public var completedWithErrors: Int
        public var failed: Int
        public var cancelled: Int
        public var timedOut: Int

        public init(queued: Int = 0, running: Int = 0, cancelling: Int = 0, pausing: Int = 0, paused: Int = 0,
                    completed: Int = 0, completedWithErrors: Int = 0, failed: Int = 0, cancelled: Int = 0, timedOut: Int = 0) {
            self.queued = queued
            self.running = running
            self.cancelling = cancelling
            self.pausing = pausing
            self.paused = paused
            self.completed = completed
            self.completedWithErrors = completedWithErrors
            self.failed = failed
            self.cancelled = cancelled
            self.timedOut = timedOut
        }

        public subscript(status: Status) -> Int {
            get {
                switch status {
                case .queued: queued
                case .running: running
                case .cancelling: cancelling
                case .pausing: pausing
                case .paused: paused
                case .completed: completed
                case .completedWithErrors: completedWithErrors
                case .failed: failed
                case .cancelled: cancelled
                case .timedOut: timedOut
                }
            }
            set {
                switch status {
                case .queued: queued = newValue
                case .running: running = newValue
                case .cancelling: cancelling = newValue
                case .pausing: pausing = newValue
                case .paused: paused = newValue
                case .completed: completed = newValue
                case .completedWithErrors: completedWithErrors = newValue
                case .failed: failed = newValue
                case .cancelled: cancelled = newValue
                case .timedOut: timedOut = newValue
                }
            }
        }

        /// Counts written before `pausing` and `paused` existed decode as 0 there.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init()
            for status in Status.allCases {
                let key = CodingKeys(rawValue: status.rawValue)!
                self[status] = status == .pausing || status == .paused
                    ? try c.decodeIfPresent(Int.self, forKey: key) ?? 0
                    : try c.decode(Int.self, forKey: key)
            }
        }

        /// All jobs, whatever their status.
        public var total: Int { Status.allCases.reduce(0) { $0 + self[$1] } }

        enum CodingKeys: String, CodingKey {
            case queued, running, cancelling, pausing, paused, completed
            case completedWithErrors = "completed_with_errors"
            case failed, cancelled
            case timedOut = "timed_out"
        }
    }

    /// A queue and how deep it is.
    public struct Queue: Sendable, Codable, Equatable {
        public var name: String
        /// Jobs waiting in it.
        public var depth: Int
        /// Jobs started from it per second, recently, if known.
        public var ratePerSecond: Double?

        public init(name: String, depth: Int, ratePerSecond: Double? = nil) {
            self.name = name
            self.depth = depth
            self.ratePerSecond = ratePerSecond
        }

        enum CodingKeys: String, CodingKey {
            case name, depth
            case ratePerSecond = "rate_per_second"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(depth, forKey: .depth)
            try container.encode(ratePerSecond, forKey: .ratePerSecond)
        }
    }

    /// A worker process.
    public struct Worker: Sendable, Codable, Equatable {
        /// `host:pid`.
        public var id: String
        public var queues: [String]
        /// Slots running a job now.
        public var busy: Int
        public var slots: Int
        public var startedAt: Date
        public var heartbeatAgeSeconds: Double
        /// Heartbeat older than the stale limit: probably dead.
        public var stale: Bool

        public init(id: String, queues: [String], busy: Int, slots: Int, startedAt: Date,
                    heartbeatAgeSeconds: Double, stale: Bool) {
            self.id = id
            self.queues = queues
            self.busy = busy
            self.slots = slots
            self.startedAt = startedAt
            self.heartbeatAgeSeconds = heartbeatAgeSeconds
            self.stale = stale
        }

        enum CodingKeys: String, CodingKey {
            case id, queues, busy, slots
            case startedAt = "started_at"
            case heartbeatAgeSeconds = "heartbeat_age_seconds"
            case stale
        }
    }

    /// One progress counter (`synced`, `failed`, …), kept in the job's order.
    public struct Counter: Sendable, Codable, Equatable {
        public var name: String
        public var value: Int

        public init(_ name: String, _ value: Int) {
            self.name = name
            self.value = value
        }
    }

    /// A job that is running or being cancelled.
    public struct RunningJob: Sendable, Codable, Equatable {
        public var id: String
        public var type: String
        public var tenant: String
        public var key: String?
        /// `running` or `cancelling`.
        public var status: Status
        public var stage: String?
        public var current: Int?
        public var total: Int?
        /// 0…100, as reported by the job.
        public var percent: Double?
        public var counters: [Counter]
        public var elapsedSeconds: Double
        public var expectedDurationSeconds: Double?
        public var heartbeatAgeSeconds: Double
        /// Heartbeat older than the stale limit: the reaper will close it.
        public var stale: Bool

        public init(id: String, type: String, tenant: String, key: String? = nil, status: Status = .running,
                    stage: String? = nil, current: Int? = nil, total: Int? = nil, percent: Double? = nil,
                    counters: [Counter] = [], elapsedSeconds: Double, expectedDurationSeconds: Double? = nil,
                    heartbeatAgeSeconds: Double, stale: Bool = false) {
            self.id = id
            self.type = type
            self.tenant = tenant
            self.key = key
            self.status = status
            self.stage = stage
            self.current = current
            self.total = total
            self.percent = percent
            self.counters = counters
            self.elapsedSeconds = elapsedSeconds
            self.expectedDurationSeconds = expectedDurationSeconds
            self.heartbeatAgeSeconds = heartbeatAgeSeconds
            self.stale = stale
        }

        /// Progress as 0…1: `percent` if reported, else `current / total`.
        public var fraction: Double? {
            if let percent, percent.isFinite { return min(max(percent / 100, 0), 1) }
            if let current, let total, total > 0 { return min(max(Double(current) / Double(total), 0), 1) }
            return nil
        }

        enum CodingKeys: String, CodingKey {
            case id, type, tenant, key, status, stage, current, total, percent, counters
            case elapsedSeconds = "elapsed_seconds"
            case expectedDurationSeconds = "expected_duration_seconds"
            case heartbeatAgeSeconds = "heartbeat_age_seconds"
            case stale
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(type, forKey: .type)
            try container.encode(tenant, forKey: .tenant)
            try container.encode(key, forKey: .key)
            try container.encode(status, forKey: .status)
            try container.encode(stage, forKey: .stage)
            try container.encode(current, forKey: .current)
            try container.encode(total, forKey: .total)
            try container.encode(percent, forKey: .percent)
            try container.encode(counters, forKey: .counters)
            try container.encode(elapsedSeconds, forKey: .elapsedSeconds)
            try container.encode(expectedDurationSeconds, forKey: .expectedDurationSeconds)
            try container.encode(heartbeatAgeSeconds, forKey: .heartbeatAgeSeconds)
            try container.encode(stale, forKey: .stale)
        }
    }

    /// One job event (a status or progress change).
    public struct Event: Sendable, Codable, Equatable {
        public var time: Date
        public var jobId: String
        public var type: String
        public var status: Status
        /// The job's version after the change.
        public var version: Int
        /// A short description, e.g. `processing_files 9/20`.
        public var text: String

        public init(time: Date, jobId: String, type: String, status: Status, version: Int, text: String) {
            self.time = time
            self.jobId = jobId
            self.type = type
            self.status = status
            self.version = version
            self.text = text
        }

        enum CodingKeys: String, CodingKey {
            case time
            case jobId = "job_id"
            case type, status, version, text
        }
    }

    public var takenAt: Date
    public var counts: StatusCounts
    public var queues: [Queue]
    public var workers: [Worker]
    public var running: [RunningJob]
    /// Newest first.
    public var events: [Event]

    public init(takenAt: Date, counts: StatusCounts = StatusCounts(), queues: [Queue] = [], workers: [Worker] = [],
                running: [RunningJob] = [], events: [Event] = []) {
        self.takenAt = takenAt
        self.counts = counts
        self.queues = queues
        self.workers = workers
        self.running = running
        self.events = events
    }

    enum CodingKeys: String, CodingKey {
        case takenAt = "taken_at"
        case counts, queues, workers, running, events
    }

    // MARK: - JSON

    /// The snapshot as JSON: snake_case keys in sorted order, ISO-8601 dates.
    public func jsonData(pretty: Bool = true) throws -> Data {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// A snapshot read back from `jsonData()`.
    public static func fromJSON(_ data: Data) throws -> MonitorSnapshot {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(MonitorSnapshot.self, from: data)
    }
}
