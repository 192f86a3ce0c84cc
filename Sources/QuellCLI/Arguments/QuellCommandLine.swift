import FoundationEssentials

/// The `quell` command set (DESIGN.md "Command line" and "Configuration")
/// and its entry point.
///
///     do {
///         switch try QuellCommandLine.parse(Array(CommandLine.arguments.dropFirst()),
///                                          environment: ProcessInfo.processInfo.environment) {
///         case .help(let text): print(text, terminator: "")
///         case .worker(let options): …
///         }
///     } catch {
///         writeAll(2, error.description + "\n")
///         exit(error.exitCode)   // 2
///     }
public enum QuellCommandLine {
    /// Parses `arguments` (without the program name). `environment` is the
    /// process environment, injectable for tests.
    public static func parse(_ arguments: [String], environment: [String: String]) throws(UsageError) -> ParsedCommand {
        switch try parser.parse(arguments) {
        case .help(_, let text):
            return .help(text)
        case .arguments(let parsed):
            guard let spec = parser.command(at: parsed.command) else {
                throw UsageError("unknown command", command: ["quell"] + parsed.command)
            }
            let resolver = OptionResolver(arguments: parsed, spec: spec, environment: environment,
                                          command: ["quell"] + parsed.command)
            return try build(resolver)
        }
    }

    /// The help text of `quell` or of one of its commands (`["jobs", "cancel"]`).
    public static func help(for path: [String] = []) -> String { parser.help(for: path) }

    public static let parser = ArgumentParser(root: root)

    // MARK: - The command tree

    static let redisOptions: [OptionSpec] = [.setting(.redis), .setting(.prefix)]
    static let json = OptionSpec.flag("json", help: "print JSON")
    /// Commands act as an admin (every tenant) unless `--tenant` narrows them.
    static let tenant = OptionSpec.value("tenant", placeholder: "TENANT", help: "only this tenant's jobs (default: all)")

    public static let root = CommandSpec(
        name: "quell",
        summary: "Quell: a Redis-backed task queue for long-running sync jobs.",
        epilogue: HelpFormatter.configuration(Setting.all) + "\n\n"
            + "Exit codes: 0 ok, 1 not found or not cancellable (pausable, resumable),\n"
            + "2 usage, 3 Redis unreachable, 75 a worker holding too many abandoned handlers.",
        subcommands: [api, worker, monitor, jobs, enqueue, demo]
    )

    static let api = CommandSpec(
        name: "api",
        summary: "Serve the HTTP/JSON API.",
        options: redisOptions + [
            .setting(.host), .setting(.port), .setting(.noAuth), .setting(.staleAfter),
        ]
    )

    static let worker = CommandSpec(
        name: "worker",
        summary: "Run jobs from queues with N concurrent slots.",
        options: redisOptions + [
            .setting(.queues), .setting(.concurrency), .setting(.heartbeat), .setting(.staleAfter), .setting(.grace),
        ]
    )

    static let monitor = CommandSpec(
        name: "monitor",
        summary: "Live terminal dashboard of jobs, queues and workers.",
        discussion: "Keys: ↑/↓ select a running or paused job, c cancel it (asks y/n), "
            + "p pause or resume it, q quit.",
        options: redisOptions + [
            .flag("once", help: "print one plain snapshot and exit"),
            .flag("json", help: "print one snapshot as JSON and exit"),
            .setting(.staleAfter),
        ]
    )

    static let jobsList = CommandSpec(
        name: "list",
        summary: "List jobs.",
        discussion: "Statuses: \(jobStatusNames.joined(separator: ", ")).",
        options: redisOptions + [
            .value("status", placeholder: "STATUS", help: "only jobs with this status"),
            .value("key", placeholder: "KEY", help: "only jobs with this dedupe key"),
            tenant,
            .value("limit", placeholder: "N", help: "at most N jobs", defaultValue: "100"),
            .value("cursor", placeholder: "ID", help: "continue after this job id (a previous next_cursor)"),
            json,
        ]
    )

    static let jobsShow = CommandSpec(
        name: "show",
        summary: "Show one job.",
        options: redisOptions + [tenant, json],
        positionals: [PositionalSpec(name: "ID", help: "the job id")]
    )

    static let jobsCancel = CommandSpec(
        name: "cancel",
        summary: "Cancel a job (queued: never runs; running: stops at its next checkpoint).",
        options: redisOptions + [
            tenant,
            .value("wait", placeholder: "SECONDS", help: "wait up to SECONDS for the job to be cancelled"),
            json,
        ],
        positionals: [PositionalSpec(name: "ID", help: "the job id")]
    )

    static let jobsPause = CommandSpec(
        name: "pause",
        summary: "Pause a job (queued: now; running: at its next checkpoint, cursor kept).",
        options: redisOptions + [
            tenant,
            .value("wait", placeholder: "SECONDS", help: "wait up to SECONDS for the job to be paused"),
            json,
        ],
        positionals: [PositionalSpec(name: "ID", help: "the job id")]
    )

    static let jobsResume = CommandSpec(
        name: "resume",
        summary: "Resume a paused job: back in its queue, to continue from its cursor.",
        options: redisOptions + [tenant, json],
        positionals: [PositionalSpec(name: "ID", help: "the job id")]
    )

    static let jobsCleanup = CommandSpec(
        name: "cleanup",
        summary: "Close stuck jobs now (stale heartbeat or past deadline).",
        options: redisOptions + [tenant, .setting(.staleAfter), json]
    )

    static let jobs = CommandSpec(
        name: "jobs",
        summary: "Inspect and act on jobs.",
        subcommands: [jobsList, jobsShow, jobsCancel, jobsPause, jobsResume, jobsCleanup]
    )

    static let enqueue = CommandSpec(
        name: "enqueue",
        summary: "Enqueue a job of TYPE.",
        options: redisOptions + [
            .value("params", placeholder: "JSON", help: "job parameters, a JSON object", defaultValue: "{}"),
            .value("key", placeholder: "KEY", help: "dedupe key: one non-terminal job per tenant and key"),
            .value("tenant", placeholder: "TENANT", help: "tenant", defaultValue: "default"),
            .value("queue", placeholder: "QUEUE", help: "queue", defaultValue: "default"),
            .value("max-attempts", placeholder: "N", help: "attempts before failing"),
            json,
        ],
        positionals: [PositionalSpec(name: "TYPE", help: "the task type, e.g. demo.sync")]
    )

    static let demo = CommandSpec(
        name: "demo",
        summary: "Run the demo: redis, an api, two workers, demo syncs, a cancel, the monitor.",
        discussion: "Starts a private redis-server unless --redis (or QUELL_REDIS_URL) is given; on that Redis it "
            + "uses a prefix of its own (quell-demo-<random>, or --prefix when no keys are under it yet) and deletes "
            + "that prefix's keys when it ends. On a terminal the monitor shows the story and stays after it "
            + "(q or Ctrl-C stops everything); without one the story prints as lines and the demo ends with it. "
            + "Exit codes: 0 every step as expected, 1 a step was not, 2 usage, 3 Redis unreachable.",
        options: [
            OptionSpec.value("redis", placeholder: "URL", help: "use this Redis instead of a private redis-server",
                             environment: Setting.redis.environment),
            .setting(.prefix), .setting(.host), .setting(.port),
            .flag("exit", help: "stop everything and exit when the story ends"),
        ]
    )

    // MARK: - Typed values

    private static func build(_ r: OptionResolver) throws(UsageError) -> ParsedCommand {
        switch r.arguments.command {
        case ["api"]:
            return .api(APIOptions(
                redis: try redis(r),
                host: try nonEmpty(r, "host"),
                port: try r.integer("port", in: 0...65_535)!,
                tokens: try r.raw(.tokens).map { found throws(UsageError) in try r.tokens(found) } ?? [:],
                adminToken: r.raw(.adminToken)?.value,
                noAuth: try r.flag("no-auth"),
                reaper: try reaper(r)
            ))
        case ["worker"]:
            return .worker(WorkerOptions(
                redis: try redis(r),
                queues: try r.list(r.raw("queues")!),
                concurrency: try r.integer("concurrency", in: 1...10_000)!,
                heartbeatSeconds: try r.seconds("heartbeat", positive: true)!,
                shutdownGraceSeconds: try r.seconds("grace")!,
                reaper: try reaper(r),
                logLevel: try r.choice(r.raw(.logLevel)!, of: ["debug", "info", "notice", "warning", "error"]),
                cancelGraceSeconds: try r.seconds(.cancelGrace, positive: true),
                abandonedTaskLimit: try r.integer(r.raw(.abandonedTaskLimit)!, in: 0...10_000),
                startsAhead: try r.boolean(r.raw(.startAhead)!)
            ))
        case ["monitor"]:
            let once = try r.flag("once")
            let json = try r.flag("json")
            return .monitor(MonitorOptions(
                redis: try redis(r), once: once, json: json,
                staleAfterSeconds: try r.seconds("stale-after", positive: true)!
            ))
        case ["jobs", "list"]:
            return .jobsList(JobsListOptions(
                redis: try redis(r),
                status: try r.raw("status").map { found throws(UsageError) in try r.choice(found, of: jobStatusNames) },
                key: r.string("key"),
                tenant: r.string("tenant"),
                limit: try r.integer("limit", in: 1...100_000)!,
                json: try r.flag("json"),
                cursor: r.string("cursor")
            ))
        case ["jobs", "show"]:
            return .jobsShow(JobsShowOptions(redis: try redis(r), id: try positional(r, 0), json: try r.flag("json"),
                                             tenant: r.string("tenant")))
        case ["jobs", "cancel"]:
            return .jobsCancel(JobsCancelOptions(
                redis: try redis(r), id: try positional(r, 0),
                waitSeconds: try r.seconds("wait"), json: try r.flag("json"), tenant: r.string("tenant")
            ))
        case ["jobs", "pause"]:
            return .jobsPause(JobsPauseOptions(
                redis: try redis(r), id: try positional(r, 0),
                waitSeconds: try r.seconds("wait"), json: try r.flag("json"), tenant: r.string("tenant")
            ))
        case ["jobs", "resume"]:
            return .jobsResume(JobsPauseOptions(redis: try redis(r), id: try positional(r, 0), waitSeconds: nil,
                                                json: try r.flag("json"), tenant: r.string("tenant")))
        case ["jobs", "cleanup"]:
            return .jobsCleanup(JobsCleanupOptions(redis: try redis(r), reaper: try reaper(r), json: try r.flag("json"),
                                                   tenant: r.string("tenant")))
        case ["enqueue"]:
            return .enqueue(EnqueueOptions(
                redis: try redis(r),
                type: try positional(r, 0),
                params: try r.jsonObject(r.raw("params")!),
                key: r.string("key"),
                tenant: try nonEmpty(r, "tenant"),
                queue: try nonEmpty(r, "queue"),
                maxAttempts: try r.integer("max-attempts", in: 1...1_000),
                json: try r.flag("json")
            ))
        case ["demo"]:
            return .demo(DemoOptions(
                redisURL: try r.raw("redis").map { found throws(UsageError) in try r.redisURL(found) },
                prefix: try nonEmpty(r, "prefix"),
                host: try nonEmpty(r, "host"),
                port: try r.integer("port", in: 0...65_535)!,
                prefixOnCommandLine: r.arguments.values["prefix"] != nil,
                exit: try r.flag("exit")
            ))
        default:
            throw r.error("unknown command")
        }
    }

    private static func redis(_ r: OptionResolver) throws(UsageError) -> RedisSettings {
        RedisSettings(url: try r.redisURL(r.raw("redis")!), prefix: try nonEmpty(r, "prefix"),
                      enqueueLingerMS: try r.milliseconds(.enqueueLinger, in: 0...1000))
    }

    /// Positional `index` (present: the parser checked the count), not blank.
    private static func positional(_ r: OptionResolver, _ index: Int) throws(UsageError) -> String {
        let value = r.arguments.positionals[index]
        guard !value.trimmingSpaces().isEmpty else {
            throw r.error("empty argument \(r.spec.positionals[index].name)")
        }
        return value
    }

    private static func nonEmpty(_ r: OptionResolver, _ name: String) throws(UsageError) -> String {
        guard let found = r.raw(name) else { throw r.error("missing --\(name)") }
        guard !found.value.trimmingSpaces().isEmpty else {
            throw r.error("invalid value for \(found.source.label): expected a non-empty value")
        }
        return found.value
    }

    private static func reaper(_ r: OptionResolver) throws(UsageError) -> ReaperOptions {
        let timeout = TimeoutOptions(
            baseSeconds: try r.seconds(.timeoutBase),
            perItemSeconds: try r.seconds(.timeoutPerItem),
            minimumSeconds: try r.seconds(.timeoutMin),
            maximumSeconds: try r.seconds(.timeoutMax)
        )
        guard timeout.minimumSeconds <= timeout.maximumSeconds else {
            throw r.error("invalid timeouts: QUELL_TIMEOUT_MIN_SECONDS is above QUELL_TIMEOUT_MAX_SECONDS")
        }
        return ReaperOptions(
            staleAfterSeconds: try r.seconds(.staleAfter, positive: true),
            intervalSeconds: try r.seconds(.reaperInterval, positive: true),
            timeout: timeout,
            retentionSeconds: try r.seconds(.retention, positive: true)
        )
    }
}
