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
    /// The library configuration these settings describe; a bad URL or prefix
    /// is a usage error (exit 2).
    func configuration(reaper: ReaperOptions? = nil) throws(UsageError) -> QuellConfiguration {
        var c = QuellConfiguration()
        do {
            c.redisURL = try RedisURL(url)
        } catch {
            throw UsageError("\(error)", command: [])
        }
        do {
            try QuellConfiguration.validateName(prefix, what: "prefix")
        } catch {
            throw UsageError("\(error)", command: [])
        }
        c.prefix = prefix
        if let reaper {
            c.staleAfter = reaper.staleAfterSeconds
            c.reaperInterval = reaper.intervalSeconds
            c.timeout = TimeoutPolicy(base: reaper.timeout.baseSeconds, perItem: reaper.timeout.perItemSeconds,
                                      minimum: reaper.timeout.minimumSeconds, maximum: reaper.timeout.maximumSeconds)
            c.retention = reaper.retentionSeconds
        }
        return c
    }
}

extension WorkerOptions {
    /// The store configuration `quell worker` runs with: every setting it names.
    public func storeConfiguration() throws(UsageError) -> QuellConfiguration {
        var c = try redis.configuration(reaper: reaper)
        c.heartbeatInterval = heartbeatSeconds
        c.shutdownGrace = shutdownGraceSeconds
        return c
    }
}

extension APIOptions {
    /// The store configuration `quell api` runs with (its reaper and janitor included).
    public func storeConfiguration() throws(UsageError) -> QuellConfiguration {
        try redis.configuration(reaper: reaper)
    }
}
