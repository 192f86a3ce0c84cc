import FoundationEssentials

/// Every setting of DESIGN.md's Configuration table, read in one place: by
/// the library (`QuellSettings.read()`, `QuellConfiguration.fromEnvironment()`)
/// and by every `quell` command (whose flags only override the environment),
/// so a setting never means one thing to one command and nothing to another.
///
///     let settings = try QuellSettings.read()        // QUELL_* from the environment
///     let store = JobStore(configuration: settings.store)
///     let worker = Worker(store: store, registry: registry,
///                         options: Worker.Options(queues: settings.worker.queues,
///                                                 concurrency: settings.worker.concurrency))
public struct QuellSettings: Sendable, Equatable {
    /// Redis, prefix, heartbeat, stale-after, reaper, grace, retention, timeouts.
    public var store: QuellConfiguration
    public var worker: Worker
    public var api: API

    /// `quell worker`'s own settings.
    public struct Worker: Sendable, Equatable {
        public var queues: [String]
        public var concurrency: Int
        /// The least severe records `quell worker` logs (`info`: each job's start and end).
        public var logLevel: LogLevel
        /// Abandoned handlers a worker may hold before it stops taking jobs
        /// and exits for its supervisor to restart it (`QUELL_ABANDONED_TASK_LIMIT`).
        public var abandonedTaskLimit: Int
        /// Start short jobs ahead of a free slot (`QUELL_START_AHEAD`, on;
        /// see `Worker.Options.startsAhead`).
        public var startsAhead = true
    }

    /// `quell api`'s own settings.
    public struct API: Sendable, Equatable {
        public var host: String
        public var port: Int
        /// Bearer token → tenant.
        public var tokens: [String: String]
        /// A token that sees every tenant.
        public var adminToken: String?
        /// No authentication: one tenant, `default`.
        public var noAuth: Bool
    }

    /// One environment variable of the table, with its default as text (nil: none).
    public struct Variable: Sendable, Equatable {
        public let name: String
        public let defaultValue: String?
        public let summary: String
    }

    /// The table, in DESIGN.md's order. `quell --help` and the docs list these.
    public static let variables: [Variable] = [
        Variable(name: "QUELL_REDIS_URL", defaultValue: "redis://127.0.0.1:6379/0", summary: "Redis server"),
        Variable(name: "QUELL_PREFIX", defaultValue: "quell", summary: "prefix of every Redis key"),
        Variable(name: "QUELL_HOST", defaultValue: "127.0.0.1", summary: "API listen address"),
        Variable(name: "QUELL_PORT", defaultValue: "8080", summary: "API listen port"),
        Variable(name: "QUELL_TOKENS", defaultValue: nil, summary: "API tokens, TOKEN=TENANT,TOKEN2=TENANT2"),
        Variable(name: "QUELL_ADMIN_TOKEN", defaultValue: nil, summary: "API token that sees all tenants"),
        Variable(name: "QUELL_NO_AUTH", defaultValue: nil, summary: "no authentication: one tenant, 'default'"),
        Variable(name: "QUELL_QUEUES", defaultValue: "default", summary: "queues to consume, comma-separated"),
        Variable(name: "QUELL_CONCURRENCY", defaultValue: "4", summary: "concurrent job slots"),
        Variable(name: "QUELL_LOG_LEVEL", defaultValue: "info",
                 summary: "worker log level: debug, info (each job's start and end), notice, warning, error"),
        Variable(name: "QUELL_HEARTBEAT_SECONDS", defaultValue: "2", summary: "heartbeat interval"),
        Variable(name: "QUELL_STALE_SECONDS", defaultValue: "10", summary: "a heartbeat older than this is stale"),
        Variable(name: "QUELL_REAPER_SECONDS", defaultValue: "1", summary: "reaper sweep interval"),
        Variable(name: "QUELL_SHUTDOWN_GRACE_SECONDS", defaultValue: "30", summary: "shutdown grace for running jobs"),
        Variable(name: "QUELL_CANCEL_GRACE_SECONDS", defaultValue: "30",
                 summary: "a stopped handler is abandoned after this (reason forced)"),
        Variable(name: "QUELL_ABANDONED_TASK_LIMIT", defaultValue: "4",
                 summary: "more abandoned handlers than this: the worker exits (75)"),
        Variable(name: "QUELL_START_AHEAD", defaultValue: "1",
                 summary: "after short runs, start up to three times the slots' number of jobs ahead of a free slot (0: never)"),
        Variable(name: "QUELL_RETENTION_SECONDS", defaultValue: "604800", summary: "keep finished jobs this long"),
        Variable(name: "QUELL_ENQUEUE_LINGER_MS", defaultValue: "0.5",
                 summary: "a single enqueue waits up to this for producers expected to share its call"),
        Variable(name: "QUELL_TIMEOUT_BASE_SECONDS", defaultValue: "300", summary: "job timeout: base"),
        Variable(name: "QUELL_TIMEOUT_PER_ITEM_SECONDS", defaultValue: "10", summary: "job timeout: per item"),
        Variable(name: "QUELL_TIMEOUT_MIN_SECONDS", defaultValue: "300", summary: "job timeout: minimum"),
        Variable(name: "QUELL_TIMEOUT_MAX_SECONDS", defaultValue: "7200", summary: "job timeout: maximum"),
    ]

    /// Reads every `QUELL_*` variable over the defaults. Empty values count as
    /// unset. A bad value is `QuellError.invalid` naming the variable.
    public static func read(_ env: [String: String] = ProcessInfo.processInfo.environment) throws(QuellError) -> QuellSettings {
        func text(_ name: String) -> String? {
            if let v = env[name], !v.isEmpty { return v }
            return variables.first { $0.name == name }?.defaultValue
        }
        func seconds(_ name: String) throws(QuellError) -> Double {
            let t = text(name) ?? ""
            guard let v = Double(t), v.isFinite, v > 0 else {
                throw .invalid("\(name) must be a positive number of seconds, got '\(t.prefix(40))'")
            }
            return v
        }
        func integer(_ name: String, _ range: ClosedRange<Int>) throws(QuellError) -> Int {
            let t = text(name) ?? ""
            guard let v = Int(t), range.contains(v) else {
                throw .invalid("\(name) must be an integer from \(range.lowerBound) to \(range.upperBound), got '\(t.prefix(40))'")
            }
            return v
        }
        var store = QuellConfiguration()
        do {
            store.redisURL = try RedisURL(text("QUELL_REDIS_URL") ?? "")
        } catch {
            throw .invalid("QUELL_REDIS_URL: \(error)")
        }
        let prefix = text("QUELL_PREFIX") ?? "quell"
        do { try QuellConfiguration.validateName(prefix, what: "QUELL_PREFIX") } catch { throw .invalid("\(error)") }
        store.prefix = prefix
        store.heartbeatInterval = try seconds("QUELL_HEARTBEAT_SECONDS")
        store.staleAfter = try seconds("QUELL_STALE_SECONDS")
        store.reaperInterval = try seconds("QUELL_REAPER_SECONDS")
        store.shutdownGrace = try seconds("QUELL_SHUTDOWN_GRACE_SECONDS")
        store.cancelGrace = try seconds("QUELL_CANCEL_GRACE_SECONDS")
        store.retention = try seconds("QUELL_RETENTION_SECONDS")
        let lingerText = text("QUELL_ENQUEUE_LINGER_MS") ?? ""
        guard let linger = Double(lingerText), linger >= 0, linger <= 1000 else {
            throw .invalid("QUELL_ENQUEUE_LINGER_MS must be a number of milliseconds from 0 to 1000, got '\(lingerText.prefix(40))'")
        }
        store.enqueueLinger = linger / 1000
        store.timeout = TimeoutPolicy(base: try seconds("QUELL_TIMEOUT_BASE_SECONDS"),
                                      perItem: try seconds("QUELL_TIMEOUT_PER_ITEM_SECONDS"),
                                      minimum: try seconds("QUELL_TIMEOUT_MIN_SECONDS"),
                                      maximum: try seconds("QUELL_TIMEOUT_MAX_SECONDS"))
        if store.timeout.minimum > store.timeout.maximum {
            throw .invalid("QUELL_TIMEOUT_MIN_SECONDS is above QUELL_TIMEOUT_MAX_SECONDS")
        }

        let queues = (text("QUELL_QUEUES") ?? "default").split(separator: ",").map { String($0.trimmingSpaces()) }
        for q in queues {
            do { try QuellConfiguration.validateName(q, what: "a queue in QUELL_QUEUES") } catch { throw .invalid("\(error)") }
        }
        if queues.isEmpty { throw .invalid("QUELL_QUEUES names no queue") }
        let levelText = (text("QUELL_LOG_LEVEL") ?? "info").lowercased()
        guard let logLevel = ["debug", "info", "notice", "warning", "error"].firstIndex(of: levelText).flatMap(LogLevel.init(rawValue:)) else {
            throw .invalid("QUELL_LOG_LEVEL must be debug, info, notice, warning or error, got '\(levelText.prefix(20))'")
        }
        let aheadText = (text("QUELL_START_AHEAD") ?? "1").lowercased()
        guard let startsAhead = Self.switches[aheadText] else {
            throw .invalid("QUELL_START_AHEAD must be 1 or 0, got '\(aheadText.prefix(20))'")
        }
        let worker = Worker(queues: queues, concurrency: try integer("QUELL_CONCURRENCY", 1...10_000), logLevel: logLevel,
                            abandonedTaskLimit: try integer("QUELL_ABANDONED_TASK_LIMIT", 0...10_000), startsAhead: startsAhead)

        var tokens: [String: String] = [:]
        for entry in (text("QUELL_TOKENS") ?? "").split(separator: ",") {
            let pair = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map { String($0.trimmingSpaces()) }
            guard pair.count == 2, !pair[0].isEmpty, !pair[1].isEmpty else {
                throw .invalid("QUELL_TOKENS must be TOKEN=TENANT[,TOKEN=TENANT…]")
            }
            tokens[pair[0]] = pair[1]
        }
        let noAuthText = (text("QUELL_NO_AUTH") ?? "").lowercased()
        guard ["", "0", "1", "true", "false", "yes", "no", "on", "off"].contains(noAuthText) else {
            throw .invalid("QUELL_NO_AUTH must be 1 or 0, got '\(noAuthText.prefix(20))'")
        }
        let api = API(host: text("QUELL_HOST") ?? "127.0.0.1", port: try integer("QUELL_PORT", 0...65_535), tokens: tokens,
                      adminToken: text("QUELL_ADMIN_TOKEN"), noAuth: ["1", "true", "yes", "on"].contains(noAuthText))
        return QuellSettings(store: store, worker: worker, api: api)
    }

    /// The spellings of an on/off setting.
    private static let switches = ["": false, "1": true, "true": true, "yes": true, "on": true,
                                   "0": false, "false": false, "no": false, "off": false]
}

extension StringProtocol {
    fileprivate func trimmingSpaces() -> Substring {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
