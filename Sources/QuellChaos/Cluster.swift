import Foundation
import Glibc
import Quell
import QuellSystem
import QuellTestSupport

/// The processes under test: a private redis-server (append-only), one
/// `quell api`, and worker slots each running one `quell worker` at a time.
/// Blocking (waits for processes): call it from threads of its own.
final class Cluster: @unchecked Sendable {
    let settings: ChaosSettings
    let ledger: Ledger
    let redis: RedisServerProcess
    let quell: String
    let logs: String
    let apiPort: Int
    private(set) var api: ChildProcess?
    private let lock = NSLock()
    private var workers: [ChildProcess?]
    private var incarnations: [Int]
    /// pid → log path of every worker process started.
    private(set) var workerLogs: [Int32: String] = [:]
    private var policy: String

    var prefix: String { "chaos" }
    var redisURL: RedisURL { redis.url }

    init(settings: ChaosSettings, ledger: Ledger, quell: String, logs: String) throws {
        self.settings = settings
        self.ledger = ledger
        self.quell = quell
        self.logs = logs
        policy = "always"
        redis = try RedisServerProcess.start(extraArguments: ["--appendonly", "yes", "--appendfsync", "always"])
        guard let port = freeLoopbackPort() else { throw ChaosFailure("no free port for the api") }
        apiPort = port
        workers = Array(repeating: nil, count: settings.workers)
        incarnations = Array(repeating: 0, count: settings.workers)
    }

    /// The environment every quell process gets: small stale-after and
    /// heartbeat so recoveries take seconds.
    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["QUELL_REDIS_URL"] = redisURL.description
        env["QUELL_PREFIX"] = prefix
        env["QUELL_HEARTBEAT_SECONDS"] = String(settings.heartbeat)
        env["QUELL_STALE_SECONDS"] = String(settings.staleAfter)
        env["QUELL_REAPER_SECONDS"] = "0.5"
        env["QUELL_SHUTDOWN_GRACE_SECONDS"] = String(settings.shutdownGrace)
        env["QUELL_CANCEL_GRACE_SECONDS"] = "10"
        env["QUELL_RETRY_BASE_SECONDS"] = "0.2"
        env["QUELL_TOKENS"] = ChaosAPI.tokenSetting
        env["QUELL_ADMIN_TOKEN"] = ChaosAPI.adminToken
        env["QUELL_LOG_LEVEL"] = "notice"
        env.removeValue(forKey: "QUELL_NO_AUTH")
        return env
    }

    func startAPI() throws {
        let p = try ChildProcess(quell, ["api", "--port", String(apiPort)], environment: environment,
                                 outputPath: logs + "/api.log")
        api = p
        let client = ChaosAPI(port: apiPort)
        for _ in 0..<600 {
            if client.call("GET", "/healthz", token: ChaosAPI.adminToken)?.status == 200 { return }
            guard p.isRunning else { throw ChaosFailure("quell api exited at start; see \(logs)/api.log") }
            usleep(50_000)
        }
        throw ChaosFailure("quell api did not answer /healthz within 30 s")
    }

    // MARK: - Workers

    func startWorker(_ slot: Int) throws {
        lock.lock(); defer { lock.unlock() }
        incarnations[slot] += 1
        let path = "\(logs)/worker-\(slot)-\(incarnations[slot]).log"
        let p = try ChildProcess(quell, ["worker", "--concurrency", String(settings.concurrency), "--queues", "default"],
                                 environment: environment, outputPath: path)
        workers[slot] = p
        workerLogs[p.pid] = path
        if incarnations[slot] > 1 { ledger.count("worker restarts") }
    }

    func pid(_ slot: Int) -> Int32? { lock.lock(); defer { lock.unlock() }; return workers[slot]?.pid }

    func slot(ofPID pid: Int32) -> Int? {
        lock.lock(); defer { lock.unlock() }
        return workers.firstIndex { $0?.pid == pid }
    }

    /// `kill -9`; records when the process was seen gone (after waitpid),
    /// which bounds its runs' execution; then starts a fresh process.
    func kill9(_ slot: Int) throws {
        guard let p = lock.withLock({ workers[slot] }) else { return }
        p.signal(SIGKILL)
        let code = p.wait(timeout: 30)
        let at = now()
        ledger.state.withLock { $0.deaths[p.pid] = at }
        if code != 137 { ledger.breach("worker \(p.pid) killed with -9 exited with \(code.map(String.init) ?? "nothing")") }
        ledger.count("worker kill -9")
        ledger.event("kill -9 worker slot \(slot) (pid \(p.pid))")
        try startWorker(slot)
    }

    /// SIGSTOP for `seconds`, then SIGCONT.
    func freeze(_ slot: Int, seconds: Double) {
        guard let p = lock.withLock({ workers[slot] }) else { return }
        let from = now()
        p.signal(SIGSTOP)
        ledger.event("SIGSTOP worker slot \(slot) (pid \(p.pid)) for \(seconds)s")
        usleep(useconds_t(seconds * 1_000_000))
        p.signal(SIGCONT)
        ledger.state.withLock { $0.freezes[p.pid] = (from, now()) }
        ledger.count("worker SIGSTOP")
        ledger.event("SIGCONT worker slot \(slot) (pid \(p.pid))")
    }

    /// SIGTERM: a graceful shutdown must end with status 0 (hang guard: grace + 60 s).
    func terminate(_ slot: Int, restart: Bool = true) throws {
        guard let p = lock.withLock({ workers[slot] }) else { return }
        p.signal(SIGTERM)
        ledger.event("SIGTERM worker slot \(slot) (pid \(p.pid))")
        let code = p.wait(timeout: settings.shutdownGrace + 60)
        if code != 0 {
            ledger.breach("worker \(p.pid) after SIGTERM: \(code.map { "exit status \($0)" } ?? "still running after grace + 60 s"); log \(workerLogs[p.pid] ?? "?")")
            if code == nil { p.signal(SIGKILL); p.wait(timeout: 30) }
        }
        ledger.count("worker SIGTERM")
        if restart { try startWorker(slot) } else { lock.withLock { workers[slot] = nil } }
    }

    /// Worker processes that exited though nobody stopped them (a crash): breaches.
    func checkWorkersAlive() {
        lock.lock()
        let current = workers.enumerated().compactMap { i, p in p.map { (i, $0) } }
        lock.unlock()
        for (slot, p) in current where !p.isRunning {
            ledger.breach("worker slot \(slot) (pid \(p.pid)) exited by itself with status \(p.wait(timeout: 0).map(String.init) ?? "?"); log \(workerLogs[p.pid] ?? "?")")
            try? startWorker(slot)
        }
        if let api, !api.isRunning { ledger.breach("quell api exited by itself; see \(logs)/api.log") }
    }

    // MARK: - Redis

    /// `kill -9` of Redis, and a restart on the same port and directory from its append-only file.
    func killRedis() throws {
        let at = now()
        ledger.state.withLock { $0.redisKills.append((at, policy)) }
        redis.kill9()
        ledger.event("kill -9 redis (appendfsync \(policy))")
        try redis.start(extraArguments: ["--appendonly", "yes", "--appendfsync", policy])
        ledger.count("redis kill -9")
        ledger.event("redis restarted")
    }

    /// An outage: Redis frozen (SIGSTOP) for `seconds` — connections stay open, nothing answers.
    func freezeRedis(seconds: Double) {
        redis.signal(SIGSTOP)
        ledger.event("SIGSTOP redis for \(seconds)s")
        usleep(useconds_t(seconds * 1_000_000))
        redis.signal(SIGCONT)
        ledger.count("redis outages")
        ledger.event("SIGCONT redis")
    }

    /// `CONFIG SET appendfsync` (and the restart arguments from now on).
    func setFsync(_ policy: String) throws {
        let c = try RedisConnection(url: redisURL, options: RedisOptions(connectTimeout: 5, commandTimeout: 10))
        _ = try c.send(RedisCommand("CONFIG", "SET", "appendfsync", policy))
        lock.withLock { self.policy = policy }
        ledger.event("appendfsync \(policy)")
    }

    /// SIGKILL to every process (the hang guard's and a failed run's way out).
    func killAll() {
        lock.lock()
        let all = workers.compactMap { $0 } + [api].compactMap { $0 }
        lock.unlock()
        for p in all { p.signal(SIGCONT); p.signal(SIGKILL); p.wait(timeout: 10) }
        redis.signal(SIGCONT)
        redis.kill9()
    }

    /// Stops everything still running (workers first, gracefully).
    func stopAll() {
        for slot in 0..<settings.workers where pid(slot) != nil { try? terminate(slot, restart: false) }
        if let api {
            api.signal(SIGTERM)
            if api.wait(timeout: 60) != 0 { ledger.breach("quell api did not exit 0 on SIGTERM") }
        }
        api = nil
    }
}

struct ChaosFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
