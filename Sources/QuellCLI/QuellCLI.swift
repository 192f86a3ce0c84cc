import FoundationEssentials
import Quell

/// The `quell` executable's entry point: parse, dispatch, exit code.
/// Exit codes: 0 ok, 1 not found / not cancellable / failed, 2 usage, 3 Redis unreachable.
public enum QuellMain {
    public static func run(_ arguments: [String], environment: [String: String]) async -> Int32 {
        let command: ParsedCommand
        do {
            command = try QuellCommandLine.parse(arguments, environment: environment)
        } catch {
            printError(error.description)
            return error.exitCode
        }
        switch command {
        case .help(let text):
            print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
            return 0
        case .api(let o): return await APICommand.run(o, environment: environment)
        case .worker(let o): return await WorkerCommand.run(o, environment: environment)
        case .monitor(let o): return await MonitorCommand.run(o, environment: environment)
        case .jobsList(let o): return await JobsCommand.list(o)
        case .jobsShow(let o): return await JobsCommand.show(o)
        case .jobsCancel(let o): return await JobsCommand.cancel(o)
        case .jobsPause(let o): return await JobsCommand.pause(o)
        case .jobsResume(let o): return await JobsCommand.resume(o)
        case .jobsCleanup(let o): return await JobsCommand.cleanup(o)
        case .enqueue(let o): return await EnqueueCommand.run(o)
        case .demo(let o): return await DemoCommand.run(o, environment: environment)
        }
    }
}

/// One line on stderr.
func printError(_ message: String) {
    writeAll(2, message + "\n")
}

extension RedisSettings {
    /// The library configuration these settings describe (read by the library's
    /// one settings reader, `QuellSettings.read`); a bad URL or prefix is a
    /// usage error (exit 2).
    func configuration(reaper: ReaperOptions? = nil) throws(UsageError) -> QuellConfiguration {
        try Self.read(variables(reaper: reaper)).store
    }

    /// These settings as the `QUELL_*` variables they came from (flags, the
    /// environment and defaults already resolved: flag > environment > default).
    func variables(reaper: ReaperOptions?) -> [String: String] {
        var v = ["QUELL_REDIS_URL": url, "QUELL_PREFIX": prefix, "QUELL_ENQUEUE_LINGER_MS": String(enqueueLingerMS)]
        if let reaper {
            v["QUELL_STALE_SECONDS"] = String(reaper.staleAfterSeconds)
            v["QUELL_REAPER_SECONDS"] = String(reaper.intervalSeconds)
            v["QUELL_RETENTION_SECONDS"] = String(reaper.retentionSeconds)
            v["QUELL_TIMEOUT_BASE_SECONDS"] = String(reaper.timeout.baseSeconds)
            v["QUELL_TIMEOUT_PER_ITEM_SECONDS"] = String(reaper.timeout.perItemSeconds)
            v["QUELL_TIMEOUT_MIN_SECONDS"] = String(reaper.timeout.minimumSeconds)
            v["QUELL_TIMEOUT_MAX_SECONDS"] = String(reaper.timeout.maximumSeconds)
        }
        return v
    }

    static func read(_ variables: [String: String]) throws(UsageError) -> QuellSettings {
        do {
            return try QuellSettings.read(variables)
        } catch {
            throw UsageError("\(error)", command: [])
        }
    }
}

extension WorkerOptions {
    /// The settings `quell worker` runs with: every setting it names, through
    /// the library's reader.
    public func settings() throws(UsageError) -> QuellSettings {
        var v = redis.variables(reaper: reaper)
        v["QUELL_QUEUES"] = queues.joined(separator: ",")
        v["QUELL_CONCURRENCY"] = String(concurrency)
        v["QUELL_LOG_LEVEL"] = logLevel
        v["QUELL_HEARTBEAT_SECONDS"] = String(heartbeatSeconds)
        v["QUELL_SHUTDOWN_GRACE_SECONDS"] = String(shutdownGraceSeconds)
        v["QUELL_CANCEL_GRACE_SECONDS"] = String(cancelGraceSeconds)
        v["QUELL_ABANDONED_TASK_LIMIT"] = String(abandonedTaskLimit)
        v["QUELL_START_AHEAD"] = startsAhead ? "1" : "0"
        return try RedisSettings.read(v)
    }

    /// The store configuration `quell worker` runs with.
    public func storeConfiguration() throws(UsageError) -> QuellConfiguration { try settings().store }
}

extension APIOptions {
    /// The settings `quell api` runs with (its reaper and janitor included).
    public func settings() throws(UsageError) -> QuellSettings {
        var v = redis.variables(reaper: reaper)
        v["QUELL_HOST"] = host
        v["QUELL_PORT"] = String(port)
        v["QUELL_TOKENS"] = tokens.keys.sorted().map { "\($0)=\(tokens[$0]!)" }.joined(separator: ",")
        v["QUELL_ADMIN_TOKEN"] = adminToken
        v["QUELL_NO_AUTH"] = noAuth ? "1" : "0"
        return try RedisSettings.read(v)
    }

    /// The store configuration `quell api` runs with.
    public func storeConfiguration() throws(UsageError) -> QuellConfiguration { try settings().store }
}
