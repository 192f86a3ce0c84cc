import Foundation
import Quell
import Testing
@testable import QuellCLI

/// Every setting of DESIGN.md's Configuration table takes effect in every
/// command that names it: what `quell worker` and `quell api` run with is
/// their options' `storeConfiguration()`, checked here one setting at a time,
/// from the environment (flags override it; see QuellCommandLineTests).
@Suite struct SettingsTests {
    typealias Check = @Sendable (QuellConfiguration) -> Bool

    /// (variable, value, what the store configuration must then say), shared by worker and api.
    static let storeSettings: [(String, String, Check)] = [
        ("QUELL_REDIS_URL", "redis://10.1.2.3:6390/2", { $0.redisURL.description.contains("10.1.2.3:6390") && $0.redisURL.database == 2 }),
        ("QUELL_PREFIX", "acme-q", { $0.prefix == "acme-q" }),
        ("QUELL_STALE_SECONDS", "7.5", { $0.staleAfter == 7.5 }),
        ("QUELL_REAPER_SECONDS", "0.25", { $0.reaperInterval == 0.25 }),
        ("QUELL_RETENTION_SECONDS", "3600", { $0.retention == 3600 }),
        ("QUELL_ENQUEUE_LINGER_MS", "2", { $0.enqueueLinger == 0.002 }),
        ("QUELL_ENQUEUE_LINGER_MS", "0", { $0.enqueueLinger == 0 }),
        ("QUELL_TIMEOUT_BASE_SECONDS", "60", { $0.timeout.base == 60 }),
        ("QUELL_TIMEOUT_PER_ITEM_SECONDS", "2", { $0.timeout.perItem == 2 }),
        ("QUELL_TIMEOUT_MIN_SECONDS", "30", { $0.timeout.minimum == 30 }),
        ("QUELL_TIMEOUT_MAX_SECONDS", "900", { $0.timeout.maximum == 900 }),
    ]

    @Test(arguments: storeSettings.indices)
    func workerStoreSetting(_ i: Int) throws {
        let (name, value, check) = Self.storeSettings[i]
        guard case .worker(let o) = try QuellCommandLine.parse(["worker"], environment: [name: value]) else {
            Issue.record("not a worker command"); return
        }
        #expect(check(try o.storeConfiguration()), "\(name)=\(value)")
        #expect(!check(try defaultWorker().storeConfiguration()), "\(name): the default differs")
    }

    @Test(arguments: storeSettings.indices)
    func apiStoreSetting(_ i: Int) throws {
        let (name, value, check) = Self.storeSettings[i]
        guard case .api(let o) = try QuellCommandLine.parse(["api"], environment: [name: value]) else {
            Issue.record("not an api command"); return
        }
        #expect(check(try o.storeConfiguration()), "\(name)=\(value)")
    }

    @Test func workerOnlySettings() throws {
        let env = ["QUELL_QUEUES": "mail,bulk", "QUELL_CONCURRENCY": "9", "QUELL_HEARTBEAT_SECONDS": "0.7",
                   "QUELL_SHUTDOWN_GRACE_SECONDS": "12", "QUELL_LOG_LEVEL": "warning"]
        guard case .worker(let o) = try QuellCommandLine.parse(["worker"], environment: env) else {
            Issue.record("not a worker command"); return
        }
        let c = try o.storeConfiguration()
        #expect(o.queues == ["mail", "bulk"] && o.concurrency == 9)
        #expect(c.heartbeatInterval == 0.7 && c.shutdownGrace == 12)
        #expect(try o.settings().worker.logLevel == .warning)
        let d = try defaultWorker()
        #expect(d.queues == ["default"] && d.concurrency == 4)
        #expect(try d.storeConfiguration().heartbeatInterval == 2 && d.storeConfiguration().shutdownGrace == 30)
        #expect(try d.storeConfiguration().retention == 604_800)
    }

    /// The hard stop's two settings reach `quell worker` (the api has no use for them).
    @Test func hardStopSettings() throws {
        let env = ["QUELL_CANCEL_GRACE_SECONDS": "2.5", "QUELL_ABANDONED_TASK_LIMIT": "7"]
        guard case .worker(let o) = try QuellCommandLine.parse(["worker"], environment: env) else {
            Issue.record("not a worker command"); return
        }
        #expect(try o.settings().store.cancelGrace == 2.5 && o.settings().worker.abandonedTaskLimit == 7)
        let library = try QuellSettings.read(env)
        #expect(library.store.cancelGrace == 2.5 && library.worker.abandonedTaskLimit == 7)
        let d = try defaultWorker()
        #expect(try d.settings().store.cancelGrace == 30 && d.settings().worker.abandonedTaskLimit == 4)
        #expect(throws: UsageError.self) { try QuellCommandLine.parse(["worker"], environment: ["QUELL_CANCEL_GRACE_SECONDS": "0"]) }
        #expect(throws: UsageError.self) { try QuellCommandLine.parse(["worker"], environment: ["QUELL_ABANDONED_TASK_LIMIT": "-1"]) }
    }

    /// Starting ahead is on unless QUELL_START_AHEAD says 0, for `quell worker` and the library alike.
    @Test func startAheadSetting() throws {
        let byDefault = try defaultWorker().settings(), library = try QuellSettings.read([:])
        #expect(byDefault.worker.startsAhead && library.worker.startsAhead)
        #expect(Worker.Options(settings: library).startsAhead)
        for off in ["0", "off"] {
            let env = ["QUELL_START_AHEAD": off]
            guard case .worker(let o) = try QuellCommandLine.parse(["worker"], environment: env) else {
                Issue.record("not a worker command"); return
            }
            let settings = try o.settings(), library = try QuellSettings.read(env)
            #expect(!o.startsAhead && !settings.worker.startsAhead)
            #expect(!Worker.Options(settings: library).startsAhead)
        }
        #expect(throws: UsageError.self) { try QuellCommandLine.parse(["worker"], environment: ["QUELL_START_AHEAD": "maybe"]) }
        #expect(throws: QuellError.self) { try QuellSettings.read(["QUELL_START_AHEAD": "maybe"]) }
    }

    @Test func apiOnlySettings() throws {
        let env = ["QUELL_HOST": "0.0.0.0", "QUELL_PORT": "9191", "QUELL_TOKENS": "t1=acme,t2=beta",
                   "QUELL_ADMIN_TOKEN": "root", "QUELL_NO_AUTH": "1"]
        guard case .api(let o) = try QuellCommandLine.parse(["api"], environment: env) else {
            Issue.record("not an api command"); return
        }
        #expect(o.host == "0.0.0.0" && o.port == 9191)
        #expect(o.tokens == ["t1": "acme", "t2": "beta"] && o.adminToken == "root" && o.noAuth)
    }

    @Test func aBadRetentionIsAUsageError() {
        #expect(throws: UsageError.self) { try QuellCommandLine.parse(["worker"], environment: ["QUELL_RETENTION_SECONDS": "soon"]) }
        #expect(throws: UsageError.self) { try QuellCommandLine.parse(["api"], environment: ["QUELL_RETENTION_SECONDS": "0"]) }
    }

    @Test func aBadEnqueueLingerIsAUsageError() {
        for bad in ["-1", "1001", "soon"] {
            #expect(throws: UsageError.self) { try QuellCommandLine.parse(["api"], environment: ["QUELL_ENQUEUE_LINGER_MS": bad]) }
            #expect(throws: QuellError.self) { try QuellSettings.read(["QUELL_ENQUEUE_LINGER_MS": bad]) }
        }
    }

    private func defaultWorker() throws -> WorkerOptions {
        guard case .worker(let o) = try QuellCommandLine.parse(["worker"], environment: [:]) else {
            throw UsageError("not a worker command", command: [])
        }
        return o
    }

    /// One table: the CLI's settings are the library's variables, with the same defaults.
    @Test func theCommandLineAndTheLibraryShareOneTable() {
        let library = Dictionary(uniqueKeysWithValues: QuellSettings.variables.map { ($0.name, $0.defaultValue) })
        for setting in Setting.all {
            #expect(library.keys.contains(setting.environment), "\(setting.environment) is not in QuellSettings.variables")
            #expect(library[setting.environment] == .some(setting.defaultValue), "\(setting.environment): defaults differ")
        }
        #expect(Set(Setting.all.map(\.environment)) == Set(library.keys))
    }

    /// The library's reader and the command line give the same configuration
    /// for the same environment, setting by setting.
    @Test(arguments: storeSettings.indices)
    func theLibraryReadsEachSettingAsTheCommandsDo(_ i: Int) throws {
        let (name, value, check) = Self.storeSettings[i]
        let library = try QuellSettings.read([name: value])
        #expect(check(library.store), "\(name)=\(value)")
        guard case .worker(let o) = try QuellCommandLine.parse(["worker"], environment: [name: value]) else { return }
        #expect(try o.storeConfiguration() == library.store)
        #expect(try o.settings().worker == library.worker)
    }
}
