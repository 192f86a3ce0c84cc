/// One row of DESIGN.md's Configuration table: a setting with its
/// environment variable, its flag where there is one, and its default.
/// A flag wins over the environment, which wins over the default.
public struct Setting: Sendable, Equatable {
    /// Long flag name without dashes (`redis`), or nil for environment-only settings.
    public var flag: String?
    /// The value's name in help (`URL`, `N`), or nil for a boolean setting.
    public var placeholder: String?
    public var environment: String
    /// The default as a string, or nil when there is none.
    public var defaultValue: String?
    /// The default as shown in help (e.g. `none`, `off`).
    public var defaultDescription: String
    public var summary: String

    public init(flag: String?, placeholder: String?, environment: String, defaultValue: String?,
                defaultDescription: String? = nil, summary: String) {
        self.flag = flag
        self.placeholder = placeholder
        self.environment = environment
        self.defaultValue = defaultValue
        self.defaultDescription = defaultDescription ?? defaultValue ?? "none"
        self.summary = summary
    }
}

extension Setting {
    public static let redis = Setting(flag: "redis", placeholder: "URL", environment: "QUELL_REDIS_URL",
                                      defaultValue: "redis://127.0.0.1:6379/0", summary: "Redis server")
    public static let prefix = Setting(flag: "prefix", placeholder: "PREFIX", environment: "QUELL_PREFIX",
                                       defaultValue: "quell", summary: "prefix of every Redis key")
    public static let host = Setting(flag: "host", placeholder: "HOST", environment: "QUELL_HOST",
                                     defaultValue: "127.0.0.1", summary: "API listen address")
    public static let port = Setting(flag: "port", placeholder: "PORT", environment: "QUELL_PORT",
                                     defaultValue: "8080", summary: "API listen port")
    public static let tokens = Setting(flag: nil, placeholder: "TOKENS", environment: "QUELL_TOKENS",
                                       defaultValue: nil, summary: "API tokens, TOKEN=TENANT,TOKEN2=TENANT2")
    public static let adminToken = Setting(flag: nil, placeholder: "TOKEN", environment: "QUELL_ADMIN_TOKEN",
                                           defaultValue: nil, summary: "API token that sees all tenants")
    public static let noAuth = Setting(flag: "no-auth", placeholder: nil, environment: "QUELL_NO_AUTH",
                                       defaultValue: nil, defaultDescription: "off",
                                       summary: "no authentication: one tenant, 'default'")
    public static let queues = Setting(flag: "queues", placeholder: "Q1,Q2", environment: "QUELL_QUEUES",
                                       defaultValue: "default", summary: "queues to consume, comma-separated")
    public static let concurrency = Setting(flag: "concurrency", placeholder: "N", environment: "QUELL_CONCURRENCY",
                                            defaultValue: "4", summary: "concurrent job slots")
    public static let logLevel = Setting(flag: nil, placeholder: "LEVEL", environment: "QUELL_LOG_LEVEL",
                                         defaultValue: "info",
                                         summary: "worker log level: debug, info (each job's start and end), notice, warning, error")
    public static let heartbeat = Setting(flag: "heartbeat", placeholder: "SECONDS", environment: "QUELL_HEARTBEAT_SECONDS",
                                          defaultValue: "2", summary: "heartbeat interval")
    public static let staleAfter = Setting(flag: "stale-after", placeholder: "SECONDS", environment: "QUELL_STALE_SECONDS",
                                           defaultValue: "10", summary: "a heartbeat older than this is stale")
    public static let reaperInterval = Setting(flag: nil, placeholder: "SECONDS", environment: "QUELL_REAPER_SECONDS",
                                               defaultValue: "1", summary: "reaper sweep interval")
    public static let grace = Setting(flag: "grace", placeholder: "SECONDS", environment: "QUELL_SHUTDOWN_GRACE_SECONDS",
                                      defaultValue: "30", summary: "shutdown grace for running jobs")
    public static let cancelGrace = Setting(flag: nil, placeholder: "SECONDS", environment: "QUELL_CANCEL_GRACE_SECONDS",
                                            defaultValue: "30",
                                            summary: "a stopped handler is abandoned after this (reason forced)")
    public static let abandonedTaskLimit = Setting(flag: nil, placeholder: "N", environment: "QUELL_ABANDONED_TASK_LIMIT",
                                                   defaultValue: "4",
                                                   summary: "more abandoned handlers than this: the worker exits (75)")
    public static let startAhead = Setting(flag: nil, placeholder: "0|1", environment: "QUELL_START_AHEAD",
                                           defaultValue: "1",
                                           summary: "after short runs, start up to the slots' number of jobs ahead of a free slot (0: never)")
    public static let timeoutBase = Setting(flag: nil, placeholder: "SECONDS", environment: "QUELL_TIMEOUT_BASE_SECONDS",
                                            defaultValue: "300", summary: "job timeout: base")
    public static let timeoutPerItem = Setting(flag: nil, placeholder: "SECONDS", environment: "QUELL_TIMEOUT_PER_ITEM_SECONDS",
                                               defaultValue: "10", summary: "job timeout: per item")
    public static let timeoutMin = Setting(flag: nil, placeholder: "SECONDS", environment: "QUELL_TIMEOUT_MIN_SECONDS",
                                           defaultValue: "300", summary: "job timeout: minimum")
    public static let timeoutMax = Setting(flag: nil, placeholder: "SECONDS", environment: "QUELL_TIMEOUT_MAX_SECONDS",
                                           defaultValue: "7200", summary: "job timeout: maximum")
    public static let retention = Setting(flag: nil, placeholder: "SECONDS", environment: "QUELL_RETENTION_SECONDS",
                                          defaultValue: "604800", defaultDescription: "604800 (7 days)",
                                          summary: "keep finished jobs this long (the janitor deletes older ones)")
    public static let enqueueLinger = Setting(flag: nil, placeholder: "MS", environment: "QUELL_ENQUEUE_LINGER_MS",
                                              defaultValue: "0.5",
                                              summary: "a single enqueue waits up to this for producers expected to share its call (0: never)")

    /// Every setting, in the order of DESIGN.md's table.
    public static let all: [Setting] = [
        .redis, .prefix, .host, .port, .tokens, .adminToken, .noAuth, .queues, .concurrency, .logLevel,
        .heartbeat, .staleAfter, .reaperInterval, .grace, .cancelGrace, .abandonedTaskLimit, .startAhead, .retention, .enqueueLinger, .timeoutBase, .timeoutPerItem, .timeoutMin, .timeoutMax,
    ]
}
