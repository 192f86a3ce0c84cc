/// A parsed, validated `quell` command line: what to run and with which
/// settings, every fallback (flag → environment → default) already applied.
/// Seconds are `Double`s (fractional allowed).
public enum ParsedCommand: Sendable, Equatable {
    /// `--help`/`-h`: print the text on standard output and exit 0.
    case help(String)
    case api(APIOptions)
    case worker(WorkerOptions)
    case monitor(MonitorOptions)
    case jobsList(JobsListOptions)
    case jobsShow(JobsShowOptions)
    case jobsCancel(JobsCancelOptions)
    case jobsPause(JobsPauseOptions)
    case jobsResume(JobsPauseOptions)
    case jobsCleanup(JobsCleanupOptions)
    case enqueue(EnqueueOptions)
    case demo(DemoOptions)
}

/// Where the Redis state lives.
public struct RedisSettings: Sendable, Equatable {
    /// `redis://[user:pass@]host:port/db` or `unix:///path`.
    public var url: String
    /// Prefix of every key (`quell`).
    public var prefix: String
    /// How long one enqueue may wait for the producers expected to share
    /// its call, in milliseconds (`QUELL_ENQUEUE_LINGER_MS`).
    public var enqueueLingerMS: Double

    public init(url: String, prefix: String, enqueueLingerMS: Double = 0.5) {
        self.url = url
        self.prefix = prefix
        self.enqueueLingerMS = enqueueLingerMS
    }
}

/// The adaptive job deadline: `clamp(base + perItem × totalItems, minimum, maximum)`.
public struct TimeoutOptions: Sendable, Equatable {
    public var baseSeconds: Double
    public var perItemSeconds: Double
    public var minimumSeconds: Double
    public var maximumSeconds: Double

    public init(baseSeconds: Double, perItemSeconds: Double, minimumSeconds: Double, maximumSeconds: Double) {
        self.baseSeconds = baseSeconds
        self.perItemSeconds = perItemSeconds
        self.minimumSeconds = minimumSeconds
        self.maximumSeconds = maximumSeconds
    }
}

/// What the reaper (inside every worker and api) needs.
public struct ReaperOptions: Sendable, Equatable {
    /// A heartbeat older than this is stale.
    public var staleAfterSeconds: Double
    /// Sweep interval.
    public var intervalSeconds: Double
    public var timeout: TimeoutOptions
    /// Finished jobs older than this are deleted by the janitor (which runs wherever the reaper runs).
    public var retentionSeconds: Double

    public init(staleAfterSeconds: Double, intervalSeconds: Double, timeout: TimeoutOptions, retentionSeconds: Double = 604_800) {
        self.staleAfterSeconds = staleAfterSeconds
        self.intervalSeconds = intervalSeconds
        self.timeout = timeout
        self.retentionSeconds = retentionSeconds
    }
}

/// `quell api`
public struct APIOptions: Sendable, Equatable {
    public var redis: RedisSettings
    public var host: String
    /// 0 asks the system for a free port.
    public var port: Int
    /// Bearer token → tenant (`QUELL_TOKENS`).
    public var tokens: [String: String]
    /// A token that sees every tenant (`QUELL_ADMIN_TOKEN`).
    public var adminToken: String?
    /// `--no-auth`: single tenant `default`. The api must refuse to start
    /// with no tokens, no admin token and no `noAuth` (not checked here).
    public var noAuth: Bool
    public var reaper: ReaperOptions
}

/// `quell worker`
public struct WorkerOptions: Sendable, Equatable {
    public var redis: RedisSettings
    public var queues: [String]
    public var concurrency: Int
    public var heartbeatSeconds: Double
    public var shutdownGraceSeconds: Double
    public var reaper: ReaperOptions
    /// `QUELL_LOG_LEVEL`: debug, info, notice, warning or error.
    public var logLevel: String = "info"
    /// `QUELL_CANCEL_GRACE_SECONDS`: a stopped handler that reaches no checkpoint within it is abandoned.
    public var cancelGraceSeconds: Double = 30
    /// `QUELL_ABANDONED_TASK_LIMIT`: more abandoned handlers than this and the worker exits (code 75).
    public var abandonedTaskLimit: Int = 4
    /// `QUELL_START_AHEAD`: start short jobs ahead of a free slot (`Worker.Options.startsAhead`).
    public var startsAhead: Bool = true
}

/// `quell monitor`
public struct MonitorOptions: Sendable, Equatable {
    public var redis: RedisSettings
    /// Print one plain snapshot and exit.
    public var once: Bool
    /// Print one snapshot as JSON and exit (whether or not `once` is set).
    public var json: Bool
    /// A heartbeat older than this is flagged stale.
    public var staleAfterSeconds: Double
}

/// `quell jobs list`
public struct JobsListOptions: Sendable, Equatable {
    public var redis: RedisSettings
    /// One of the job statuses (`queued`, `running`, …), or nil for all.
    public var status: String?
    public var key: String?
    public var tenant: String?
    public var limit: Int
    public var json: Bool
    /// Continue after this job id (a previous page's `next_cursor`).
    public var cursor: String? = nil
}

/// `quell jobs show ID`
public struct JobsShowOptions: Sendable, Equatable {
    public var redis: RedisSettings
    public var id: String
    public var json: Bool
    /// Only this tenant's job (nil: any tenant, as an admin).
    public var tenant: String? = nil
}

/// `quell jobs cancel ID`
public struct JobsCancelOptions: Sendable, Equatable {
    public var redis: RedisSettings
    public var id: String
    /// Wait up to this long for `cancelled` (nil: do not wait).
    public var waitSeconds: Double?
    public var json: Bool
    /// Only this tenant's job (nil: any tenant, as an admin).
    public var tenant: String? = nil
}

/// `quell jobs pause ID` and `quell jobs resume ID`.
public struct JobsPauseOptions: Sendable, Equatable {
    public var redis: RedisSettings
    public var id: String
    /// Pause only: wait up to this long for `paused` (nil: do not wait).
    public var waitSeconds: Double?
    public var json: Bool
    /// Only this tenant's job (nil: any tenant, as an admin).
    public var tenant: String? = nil
}

/// `quell jobs cleanup`: close stuck jobs now.
public struct JobsCleanupOptions: Sendable, Equatable {
    public var redis: RedisSettings
    public var reaper: ReaperOptions
    public var json: Bool
    /// Only this tenant's stuck jobs (nil: every tenant, and expired workers too).
    public var tenant: String? = nil
}

/// `quell enqueue TYPE`
public struct EnqueueOptions: Sendable, Equatable {
    public var redis: RedisSettings
    public var type: String
    /// A JSON object, as given (`{}` by default).
    public var params: String
    public var key: String?
    public var tenant: String
    public var queue: String
    public var maxAttempts: Int?
    public var json: Bool
}

/// `quell demo`
public struct DemoOptions: Sendable, Equatable {
    /// nil: start a private redis-server (no `--redis` and no `QUELL_REDIS_URL`).
    public var redisURL: String?
    public var prefix: String
    public var host: String
    public var port: Int
    /// `--prefix` was on the command line. Without it, a demo on a given
    /// Redis uses a prefix of its own (`quell-demo-<random>`), never `QUELL_PREFIX`
    /// (the demo deletes its prefix's keys when it ends).
    public var prefixOnCommandLine = false
    /// `--exit`: stop everything and exit when the story ends (without a
    /// terminal the demo always does).
    public var exit = false
}

/// The job statuses, as spelled in Redis and JSON.
public let jobStatusNames = [
    "queued", "running", "cancelling", "pausing", "paused", "completed", "completed_with_errors", "failed", "cancelled",
    "timed_out",
]
