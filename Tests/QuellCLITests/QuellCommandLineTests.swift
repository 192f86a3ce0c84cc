import Testing
@testable import QuellCLI

/// The real `quell` command set: typed values, environment fallback, help.
@Suite struct QuellCommandLineTests {
    private func parse(_ arguments: [String], _ environment: [String: String] = [:]) throws -> ParsedCommand {
        try QuellCommandLine.parse(arguments, environment: environment)
    }

    private func usageError(_ arguments: [String], _ environment: [String: String] = [:]) -> UsageError? {
        do {
            let parsed = try parse(arguments, environment)
            Issue.record("expected a usage error for \(arguments), got \(parsed)")
            return nil
        } catch let error as UsageError {
            return error
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    static let defaultRedis = RedisSettings(url: "redis://127.0.0.1:6379/0", prefix: "quell")
    static let defaultReaper = ReaperOptions(
        staleAfterSeconds: 10, intervalSeconds: 1,
        timeout: TimeoutOptions(baseSeconds: 300, perItemSeconds: 10, minimumSeconds: 300, maximumSeconds: 7_200)
    )

    @Test func workerDefaults() throws {
        #expect(try parse(["worker"]) == .worker(WorkerOptions(
            redis: Self.defaultRedis, queues: ["default"], concurrency: 4,
            heartbeatSeconds: 2, shutdownGraceSeconds: 30, reaper: Self.defaultReaper
        )))
    }

    @Test func flagWinsOverEnvironmentWhichWinsOverDefault() throws {
        let environment = [
            "QUELL_REDIS_URL": "redis://env:6379/1", "QUELL_CONCURRENCY": "8", "QUELL_QUEUES": "mail, sync",
            "QUELL_HEARTBEAT_SECONDS": "0.2", "QUELL_STALE_SECONDS": "1.5", "QUELL_REAPER_SECONDS": "0.1",
        ]
        guard case .worker(let fromEnvironment) = try parse(["worker"], environment) else {
            Issue.record("not a worker")
            return
        }
        #expect(fromEnvironment.redis.url == "redis://env:6379/1")
        #expect(fromEnvironment.concurrency == 8)
        #expect(fromEnvironment.queues == ["mail", "sync"])
        #expect(fromEnvironment.heartbeatSeconds == 0.2)
        #expect(fromEnvironment.reaper.staleAfterSeconds == 1.5)
        #expect(fromEnvironment.reaper.intervalSeconds == 0.1)

        guard case .worker(let fromFlags) = try parse(
            ["worker", "--redis", "unix:///tmp/r.sock", "--concurrency=2", "--queues", "a", "--stale-after", "3"],
            environment
        ) else {
            Issue.record("not a worker")
            return
        }
        #expect(fromFlags.redis.url == "unix:///tmp/r.sock")
        #expect(fromFlags.concurrency == 2)
        #expect(fromFlags.queues == ["a"])
        #expect(fromFlags.reaper.staleAfterSeconds == 3)
        #expect(fromFlags.heartbeatSeconds == 0.2)  // still from the environment
    }

    @Test func apiTokensAndNoAuth() throws {
        let environment = ["QUELL_TOKENS": "t1=acme, t2=globex", "QUELL_ADMIN_TOKEN": "root", "QUELL_PORT": "9000"]
        #expect(try parse(["api", "--host", "0.0.0.0"], environment) == .api(APIOptions(
            redis: Self.defaultRedis, host: "0.0.0.0", port: 9_000, tokens: ["t1": "acme", "t2": "globex"],
            adminToken: "root", noAuth: false, reaper: Self.defaultReaper
        )))
        guard case .api(let noAuth) = try parse(["api", "--no-auth", "--port", "0"]) else {
            Issue.record("not api")
            return
        }
        #expect(noAuth.noAuth && noAuth.tokens.isEmpty && noAuth.adminToken == nil && noAuth.port == 0)
        guard case .api(let fromEnvironment) = try parse(["api"], ["QUELL_NO_AUTH": "1"]) else {
            Issue.record("not api")
            return
        }
        #expect(fromEnvironment.noAuth)
    }

    @Test func monitorFlags() throws {
        #expect(try parse(["monitor", "--once"]) == .monitor(MonitorOptions(
            redis: Self.defaultRedis, once: true, json: false, staleAfterSeconds: 10
        )))
        #expect(try parse(["monitor", "--json", "--prefix", "q2"]) == .monitor(MonitorOptions(
            redis: RedisSettings(url: "redis://127.0.0.1:6379/0", prefix: "q2"), once: false, json: true,
            staleAfterSeconds: 10
        )))
    }

    @Test func jobsSubcommands() throws {
        #expect(try parse(["jobs", "list", "--status", "timed_out", "--key", "onedrive:kb-42", "--json"]) == .jobsList(
            JobsListOptions(redis: Self.defaultRedis, status: "timed_out", key: "onedrive:kb-42", tenant: nil,
                            limit: 100, json: true)
        ))
        #expect(try parse(["jobs", "show", "01JABC"]) == .jobsShow(
            JobsShowOptions(redis: Self.defaultRedis, id: "01JABC", json: false)
        ))
        #expect(try parse(["jobs", "cancel", "01JABC", "--wait", "0.5"]) == .jobsCancel(
            JobsCancelOptions(redis: Self.defaultRedis, id: "01JABC", waitSeconds: 0.5, json: false)
        ))
        #expect(try parse(["jobs", "cancel", "--json", "01JABC"]) == .jobsCancel(
            JobsCancelOptions(redis: Self.defaultRedis, id: "01JABC", waitSeconds: nil, json: true)
        ))
        #expect(try parse(["jobs", "cleanup"]) == .jobsCleanup(
            JobsCleanupOptions(redis: Self.defaultRedis, reaper: Self.defaultReaper, json: false)
        ))
    }

    @Test func jobsTenantAndCursor() throws {
        #expect(try parse(["jobs", "list", "--cursor", "01JABC", "--tenant", "acme"]) == .jobsList(
            JobsListOptions(redis: Self.defaultRedis, status: nil, key: nil, tenant: "acme", limit: 100, json: false,
                            cursor: "01JABC")
        ))
        #expect(try parse(["jobs", "show", "01JABC", "--tenant", "acme"]) == .jobsShow(
            JobsShowOptions(redis: Self.defaultRedis, id: "01JABC", json: false, tenant: "acme")
        ))
        #expect(try parse(["jobs", "cancel", "01JABC", "--tenant", "acme"]) == .jobsCancel(
            JobsCancelOptions(redis: Self.defaultRedis, id: "01JABC", waitSeconds: nil, json: false, tenant: "acme")
        ))
        #expect(try parse(["jobs", "cleanup", "--tenant", "acme", "--json"]) == .jobsCleanup(
            JobsCleanupOptions(redis: Self.defaultRedis, reaper: Self.defaultReaper, json: true, tenant: "acme")
        ))
    }

    @Test func enqueue() throws {
        #expect(try parse(["enqueue", "demo.sync", "--params", #"{"total": 20}"#, "--key", "inbox-1"]) == .enqueue(
            EnqueueOptions(redis: Self.defaultRedis, type: "demo.sync", params: #"{"total": 20}"#, key: "inbox-1",
                           tenant: "default", queue: "default", maxAttempts: nil, json: false)
        ))
        guard case .enqueue(let options) = try parse(["enqueue", "demo.noop", "--max-attempts", "3", "--tenant", "acme"]) else {
            Issue.record("not enqueue")
            return
        }
        #expect(options.params == "{}" && options.maxAttempts == 3 && options.tenant == "acme")
    }

    @Test func demoRedisIsOptional() throws {
        #expect(try parse(["demo"]) == .demo(DemoOptions(redisURL: nil, prefix: "quell", host: "127.0.0.1", port: 8_080)))
        #expect(try parse(["demo"], ["QUELL_REDIS_URL": "redis://h:1/0"])
            == .demo(DemoOptions(redisURL: "redis://h:1/0", prefix: "quell", host: "127.0.0.1", port: 8_080)))
        #expect(try parse(["demo", "--redis", "redis://x:2/0", "--port", "8181"])
            == .demo(DemoOptions(redisURL: "redis://x:2/0", prefix: "quell", host: "127.0.0.1", port: 8_181)))
    }

    @Test func badValuesAreUsageErrorsNamingTheirSource() {
        #expect(usageError(["api", "--port", "http"])?.message
            == "invalid value 'http' for --port: expected an integer from 0 to 65535")
        #expect(usageError(["api"], ["QUELL_PORT": "70000"])?.message
            == "invalid value '70000' for QUELL_PORT: expected an integer from 0 to 65535")
        #expect(usageError(["worker", "--concurrency", "0"])?.message
            == "invalid value '0' for --concurrency: expected an integer from 1 to 10000")
        #expect(usageError(["worker", "--heartbeat", "0"])?.message
            == "invalid value '0' for --heartbeat: expected a number of seconds > 0")
        #expect(usageError(["worker"], ["QUELL_SHUTDOWN_GRACE_SECONDS": "soon"])?.message
            == "invalid value 'soon' for QUELL_SHUTDOWN_GRACE_SECONDS: expected a number of seconds ≥ 0")
        #expect(usageError(["worker"], ["QUELL_TIMEOUT_MIN_SECONDS": "9000"])?.message
            == "invalid timeouts: QUELL_TIMEOUT_MIN_SECONDS is above QUELL_TIMEOUT_MAX_SECONDS")
        #expect(usageError(["worker", "--queues", "a,"])?.message
            == "invalid value 'a,' for --queues: expected a comma-separated list of names")
        #expect(usageError(["api"], ["QUELL_NO_AUTH": "maybe"])?.message
            == "invalid value 'maybe' for QUELL_NO_AUTH: expected 1 or 0")
        #expect(usageError(["jobs", "list", "--status", "done"])?.message == "invalid value 'done' for --status: "
            + "expected one of queued, running, cancelling, pausing, paused, completed, completed_with_errors, failed, "
            + "cancelled, timed_out")
        #expect(usageError(["enqueue", "demo.sync", "--params", "[]"])?.message
            == "invalid value '[]' for --params: expected a JSON object")
        #expect(usageError(["monitor", "--prefix", " "])?.message
            == "invalid value for --prefix: expected a non-empty value")
    }

    @Test func secretsAreNeverEchoed() {
        let tokens = usageError(["api"], ["QUELL_TOKENS": "s3cret"])
        #expect(tokens?.message == "invalid value for QUELL_TOKENS: expected TOKEN=TENANT[,TOKEN=TENANT…]")
        let redis = usageError(["worker", "--redis", "http://user:pw@host"])
        #expect(redis?.message == "invalid value for --redis: expected redis://[user:pass@]host:port/db or unix:///path")
        #expect(redis?.description.contains("pw") == false)
    }

    @Test func structuralUsageErrors() {
        #expect(usageError([])?.description
            == "quell: missing command: one of api, worker, monitor, jobs, enqueue, demo (see 'quell --help')")
        #expect(usageError(["serve"])?.message == "unknown command 'serve'")
        #expect(usageError(["jobs"])?.message == "missing command: one of list, show, cancel, pause, resume, cleanup")
        #expect(usageError(["jobs", "show"])?.description == "quell jobs show: missing argument ID (see 'quell jobs show --help')")
        #expect(usageError(["jobs", "show", "a", "b"])?.message == "unexpected argument 'b'")
        #expect(usageError(["worker", "--once"])?.message == "unknown option '--once'")
        #expect(usageError(["monitor", "--json=1"])?.message == "option '--json' takes no value")
        #expect(usageError(["monitor", "--redis"])?.message == "option '--redis' needs a value (URL)")
        #expect(usageError(["enqueue"])?.message == "missing argument TYPE")
        #expect(usageError(["enqueue", ""])?.message == "empty argument TYPE")
        #expect(usageError(["jobs", "cancel", " "])?.message == "empty argument ID")
    }

    @Test func everyCommandHasHelp() throws {
        let paths: [[String]] = [
            [], ["api"], ["worker"], ["monitor"], ["jobs"], ["jobs", "list"], ["jobs", "show"], ["jobs", "cancel"],
            ["jobs", "cleanup"], ["enqueue"], ["demo"],
        ]
        for path in paths {
            for flag in ["--help", "-h"] {
                guard case .help(let text) = try parse(path + [flag]) else {
                    Issue.record("no help for \(path)")
                    continue
                }
                #expect(text == QuellCommandLine.help(for: path))
                #expect(text.hasPrefix("Usage: " + (["quell"] + path).joined(separator: " ")))
                for line in text.split(separator: "\n") {
                    #expect(line.count <= 80, "help line too long: \(line)")
                }
            }
        }
    }

    @Test func topLevelHelpListsCommandsAndEverySetting() {
        let help = QuellCommandLine.help()
        for command in ["api", "worker", "monitor", "jobs", "enqueue TYPE", "demo"] {
            #expect(help.contains("\n  \(command) "))
        }
        for setting in Setting.all {
            #expect(help.contains(setting.environment))
            if let flag = setting.flag { #expect(help.contains("--\(flag)")) }
        }
        #expect(help.contains("  --redis        QUELL_REDIS_URL                 redis://127.0.0.1:6379/0\n"))
        #expect(help.contains("  -              QUELL_TIMEOUT_PER_ITEM_SECONDS  10\n"))
    }

    @Test func workerHelpIsExact() {
        #expect(QuellCommandLine.help(for: ["jobs", "cancel"]) == """
            Usage: quell jobs cancel ID [options]

            Cancel a job (queued: never runs; running: stops at its next checkpoint).

            Arguments:
              ID  the job id

            Options:
              --redis URL      Redis server
                               [env QUELL_REDIS_URL, default redis://127.0.0.1:6379/0]
              --prefix PREFIX  prefix of every Redis key [env QUELL_PREFIX, default quell]
              --tenant TENANT  only this tenant's jobs (default: all)
              --wait SECONDS   wait up to SECONDS for the job to be cancelled
              --json           print JSON
              -h, --help       show this help

            """)
    }

    @Test func everyFlagOfTheConfigurationTableIsAcceptedSomewhere() throws {
        let flagged = Setting.all.compactMap(\.flag)
        let options = Set(QuellCommandLine.root.subcommands.flatMap { command in
            (command.subcommands.isEmpty ? [command] : command.subcommands).flatMap { $0.options.map(\.name) }
        })
        for flag in flagged { #expect(options.contains(flag), "--\(flag) is on no command") }
    }
}
