import FoundationEssentials
import Glibc
import Quell
import QuellAPI
import QuellHTTP
import QuellSystem
import QuellTerminal
import Synchronization

/// `quell demo [--redis URL] [--prefix P] [--host H] [--port N] [--exit]`:
/// a private redis-server (unless `--redis`), the API in this process, two
/// child `quell worker`s, and the scripted story of `DemoStory` — on a
/// terminal inside the live monitor (its lines on the prompt line), otherwise
/// as plain lines. At the end (or on Ctrl-C, SIGTERM, SIGHUP, `q`) it stops
/// everything it started, workers before Redis, deletes its prefix's keys on
/// a given Redis, and removes its temp dir.
///
/// Exit codes: 0 every step as expected, 1 a step was not (or the demo could
/// not set up, or `q` ended it before the story did), 2 usage, 3 Redis
/// unreachable, 128 + N when signal N stopped it.
enum DemoCommand {
    /// Fast worker timings, so a killed worker's job is recovered within seconds.
    static let heartbeatSeconds = 0.5
    static let staleAfterSeconds = 3.0
    static let reaperSeconds = 0.5
    static let workerCount = 2
    static let concurrency = 2
    static let tenant = "demo"

    static func run(_ o: DemoOptions, environment: [String: String]) async -> Int32 {
        let stop = DemoStop()
        // A signal inherited as ignored (SIGHUP under nohup) stays ignored.
        let watched = [SIGINT, SIGTERM, SIGHUP].filter { SignalWatcher.disposition(of: $0) != .ignore }
        let signals = SignalWatcher(watched) { signal in stop.request(signal: signal) }
        defer { signals.cancel() }
        return await DemoRun(options: o, environment: environment, stop: stop).run()
    }
}

/// One run of the demo: what it started (torn down in `tearDown`, whatever
/// happened), owned by the one task that runs it.
private final class DemoRun {
    let o: DemoOptions
    let environment: [String: String]
    let stop: DemoStop
    let terminal = Terminal.isTerminal(STDOUT_FILENO)

    var directory: String?
    var redisServer: DemoChild?
    var workers: [DemoStory.WorkerProcess] = []
    var store: JobStore?
    var server: QuellAPIServer?
    /// The demo made its prefix on a given Redis: delete its keys at the end.
    var ownsPrefix = false
    var apiURL = ""
    var token = ""

    init(options: DemoOptions, environment: [String: String], stop: DemoStop) {
        self.o = options
        self.environment = environment
        self.stop = stop
    }

    func run() async -> Int32 {
        var code: Int32
        var verdict: String
        do {
            let api = try await setUp()
            (code, verdict) = await play(api)
        } catch {
            code = error.exitCode
            verdict = "quell demo: \(error.description)"
            if stop.requested {
                code = stop.exitCode
                verdict = "quell demo: interrupted while setting up"
            }
        }
        if !(await tearDown()) && code == 0 {
            code = 1
            verdict = "quell demo: the story went as expected, but stopping did not (see above)"
        }
        if code == 0 { say(verdict) } else { printError(verdict) }
        return code
    }

    // MARK: - Set-up

    /// The environment of the children: ours without `QUELL_*` settings (the
    /// demo sets what it needs), so a stray variable cannot change the story.
    var childEnvironment: [String: String] { environment.filter { !$0.key.hasPrefix("QUELL_") } }

    private func setUp() async throws(DemoFailure) -> DemoAPIClient {
        let base = environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(base)/quell-demo.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw DemoFailure("cannot make a temp dir in \(base): \(String(cString: strerror(errno)))")
        }
        let directory = String(cString: made)
        self.directory = directory
        say("quell demo: temp dir \(directory) (logs; removed at the end)")

        let url: RedisURL
        let urlText: String
        let prefix: String
        if let given = o.redisURL {
            do {
                url = try RedisURL(given)
            } catch {
                throw DemoFailure("invalid --redis: \(error)", exitCode: 2)
            }
            urlText = given
            prefix = o.prefixOnCommandLine ? o.prefix : "quell-demo-\(randomHex(4))"
        } else {
            let stop = self.stop
            let (child, privateURL) = try await DemoProcesses.startRedis(directory: directory, environment: childEnvironment,
                                                                         stopped: { stop.requested })
            redisServer = child
            url = privateURL
            urlText = privateURL.description
            prefix = o.prefix
            say("quell demo: started redis-server pid \(child.pid) on \(privateURL) (private: --save \"\" --appendonly no)")
        }
        try checkStop()

        let configuration = QuellConfiguration(redisURL: url, prefix: prefix, heartbeatInterval: DemoCommand.heartbeatSeconds,
                                               staleAfter: DemoCommand.staleAfterSeconds,
                                               reaperInterval: DemoCommand.reaperSeconds)
        // Fail fast when Redis is not there.
        let client = RedisClient(url: url, options: RedisOptions(connectTimeout: 2, commandTimeout: 10, clientName: "quell-demo"))
        let store = JobStore(redis: client, configuration: configuration)
        self.store = store
        let used: Bool
        do {
            used = try await store.holdsAnyKeys(ignoringLiveness: true)
        } catch {
            if case .unavailable = error { throw DemoFailure("Redis at \(url) is unreachable: \(error)", exitCode: 3) }
            throw DemoFailure("Redis at \(url): \(error)")
        }
        if o.redisURL != nil {
            guard !used else {
                throw DemoFailure("prefix '\(prefix)' already holds keys on \(url), and the demo deletes its prefix's keys when "
                    + "it ends: leave --prefix out (the demo makes one up) or name an unused one", exitCode: 2)
            }
            ownsPrefix = true
            say("quell demo: using \(url) under key prefix \(prefix) (its keys are deleted at the end)")
        }

        token = randomHex(16)
        let port = try await startAPI(store)
        let connectHost = Self.connectHost(o.host)
        apiURL = "http://\(connectHost.contains(":") ? "[\(connectHost)]" : connectHost):\(port)"
        say("quell demo: api on \(apiURL) (in this process), token \(token) for tenant '\(DemoCommand.tenant)'")
        try checkStop()

        var workerEnvironment = childEnvironment
        workerEnvironment["QUELL_REDIS_URL"] = urlText  // not in argv: it may hold a password
        workerEnvironment["QUELL_PREFIX"] = prefix
        workerEnvironment["QUELL_REAPER_SECONDS"] = String(DemoCommand.reaperSeconds)
        let executable = DemoProcesses.ownExecutable()
        for n in 1...DemoCommand.workerCount {
            let log = "\(directory)/worker-\(n).log"
            do {
                let child = try DemoChild(name: "worker \(n)", path: executable, arguments: [
                    "worker", "--concurrency", String(DemoCommand.concurrency),
                    "--heartbeat", String(DemoCommand.heartbeatSeconds), "--stale-after", String(DemoCommand.staleAfterSeconds),
                    "--grace", "2",
                ], environment: workerEnvironment, logPath: log)
                workers.append(DemoStory.WorkerProcess(label: "worker \(n)", child: child))
                say("quell demo: started worker \(n) pid \(child.pid) (log \(log))")
            } catch {
                throw DemoFailure("cannot start worker \(n): \(error)")
            }
        }
        try await waitForWorkers(store)

        say("quell demo: try it from another terminal:")
        say("  curl -s -X POST \(apiURL)/v1/jobs -H 'Authorization: Bearer \(token)' -H 'Content-Type: application/json' "
            + #"-d '{"type": "demo.sync", "key": "my-inbox", "params": {"total": 1000, "delay_ms": 10}}'"#)
        say("  curl -s \(apiURL)/v1/jobs -H 'Authorization: Bearer \(token)'")
        say("  or open \(apiURL)/ in a browser and sign in with the token (the web dashboard)")
        return DemoAPIClient(host: connectHost, port: port, token: token)
    }

    /// The API in this process, with one token for the demo tenant. A taken
    /// port falls back to a free one (it is a demo: it should just run).
    private func startAPI(_ store: JobStore) async throws(DemoFailure) -> Int {
        let auth = APIAuth(tokens: [token: DemoCommand.tenant])
        var port = o.port
        while true {
            let server = QuellAPIServer(store: store, configuration: QuellAPIConfiguration(
                http: HTTPServerConfiguration(host: o.host, port: port), auth: auth))
            let failure = await onThreadOfItsOwn { () -> HTTPServerError? in
                do throws(HTTPServerError) {
                    try server.start()
                    return nil
                } catch {
                    return error
                }
            }
            guard let failure else {
                self.server = server
                return server.port
            }
            await server.shutdown(grace: .zero)
            guard case .bind = failure, port != 0 else { throw DemoFailure("cannot start the api: \(failure)") }
            say("quell demo: port \(port) is taken, the api takes a free one")
            port = 0
        }
    }

    /// Until both workers have registered in Redis (each says so with its pid in its id).
    private func waitForWorkers(_ store: JobStore) async throws(DemoFailure) {
        let end = ContinuousClock.now + .seconds(60)  // only ends a hung start
        while true {
            try checkStop()
            for worker in workers where worker.child.hasExited {
                throw DemoFailure("\(worker.label) exited at start:\n  " + worker.child.logTail().joined(separator: "\n  "))
            }
            let registered = (try? await store.stats(tenant: nil).workers.map(\.id)) ?? []
            let pids = Set(registered.compactMap { id -> pid_t? in
                let parts = id.split(separator: ":")
                return parts.count >= 3 ? pid_t(parts[parts.count - 2]) : nil
            })
            if workers.allSatisfy({ pids.contains($0.child.pid) }) { return }
            guard ContinuousClock.now < end else { throw DemoFailure("the workers did not register within 60 s") }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    private func checkStop() throws(DemoFailure) {
        if stop.requested { throw DemoFailure("interrupted", exitCode: stop.exitCode) }
    }

    // MARK: - The story

    /// Tells the story; returns the exit code and the closing line.
    private func play(_ api: DemoAPIClient) async -> (Int32, String) {
        let workers = self.workers
        let stop = self.stop
        let end: DemoStory.End
        var monitorFailure: (Int32, String)?
        if terminal {
            let transcript = Transcript()
            let (stream, feed) = AsyncStream.makeStream(of: LiveMonitor.Input.self)
            let pacer = StoryPacer(feed)
            let story = DemoStory(api: api, workers: workers, concurrency: DemoCommand.concurrency,
                                  staleAfter: DemoCommand.staleAfterSeconds) { line in
                transcript.append(line)
                await pacer.show(line)
            }
            let exitAtEnd = o.exit
            let after = "api \(apiURL) token \(token) · q quits"
            let task = Task { () -> DemoStory.End in
                let end = await story.run()
                await pacer.show(end.verdict + (exitAtEnd ? "" : " · " + after))
                if exitAtEnd { feed.yield(.quit) }
                return end
            }
            stop.onRequest {
                task.cancel()
                feed.yield(.quit)
            }
            do {
                // The demo's own signal watcher stops everything: the monitor only restores the terminal.
                try await LiveMonitor.run(store: store!, settings: SnapshotSource.Settings(staleAfter: DemoCommand.staleAfterSeconds),
                                          color: Style.colorEnabled(environment: environment, isTerminal: true),
                                          external: stream, onSignal: { _ in })
            } catch let error as QuellError {
                monitorFailure = (error.exitCode, "quell demo: monitor: \(error)")
            } catch {
                monitorFailure = (1, "quell demo: monitor: \(error)")
            }
            task.cancel()  // `q` before the story's end
            end = await task.value
            feed.finish()
            for line in transcript.lines { say(line) }
        } else {
            let story = DemoStory(api: api, workers: workers, concurrency: DemoCommand.concurrency,
                                  staleAfter: DemoCommand.staleAfterSeconds) { line in say(line) }
            let task = Task { await story.run() }
            stop.onRequest { task.cancel() }
            end = await task.value
        }
        if let monitorFailure { return monitorFailure }
        switch end {
        case .done: return (0, end.verdict)
        case .failed: return (1, end.verdict)
        case .interrupted: return (stop.requested ? stop.exitCode : 1, end.verdict)
        }
    }

    // MARK: - Tear-down

    /// Stops what was started — workers (SIGTERM, then SIGKILL after a
    /// bound), the api, the private Redis — deletes the prefix's keys on a
    /// given Redis and removes the temp dir. False if anything was left.
    private func tearDown() async -> Bool {
        var clean = true
        let stop = self.stop
        let hurry: @Sendable () -> Bool = { stop.hurried }
        if !workers.isEmpty { say("quell demo: stopping…") }
        // Workers first: they write under the prefix, and need Redis to finish.
        let outcomes = await withTaskGroup(of: (Int, String).self) { group in
            for (index, worker) in workers.enumerated() {
                group.addTask { (index, await worker.child.stop(grace: 15, hurry: hurry)) }
            }
            var out: [Int: String] = [:]
            for await (index, outcome) in group { out[index] = outcome }
            return out
        }
        for (index, worker) in workers.enumerated() {
            say("quell demo: \(worker.label) (pid \(worker.child.pid)): \(outcomes[index] ?? "?")")
            if !worker.child.hasExited { clean = false }
        }
        if let server { await server.shutdown(grace: .seconds(2)) }
        if ownsPrefix, let store {
            do {
                let deleted = try await store.deleteEverything()
                if try await store.holdsAnyKeys() {
                    printError("quell demo: keys are left under prefix \(store.configuration.prefix)")
                    clean = false
                } else {
                    say("quell demo: deleted the \(deleted) keys under prefix \(store.configuration.prefix)")
                }
            } catch {
                printError("quell demo: cannot delete the keys under prefix \(store.configuration.prefix): \(error)")
                clean = false
            }
        }
        store?.redis.close()
        if let redisServer {
            let outcome = await redisServer.stop(grace: 10, hurry: hurry)
            say("quell demo: redis-server (pid \(redisServer.pid)): \(outcome)")
            if !redisServer.hasExited { clean = false }
        }
        if let directory {
            try? FileManager.default.removeItem(atPath: directory)
            if FileManager.default.fileExists(atPath: directory) {
                printError("quell demo: cannot remove \(directory)")
                clean = false
            } else {
                say("quell demo: removed \(directory)")
            }
        }
        return clean
    }

    // MARK: - Helpers

    /// Where a client reaches a server listening on `host` (loopback for a wildcard address).
    static func connectHost(_ host: String) -> String {
        switch host {
        case "0.0.0.0", "": "127.0.0.1"
        case "::", "[::]": "::1"
        default: host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        }
    }
}

extension DemoStory.End {
    /// The demo's closing line.
    var verdict: String {
        switch self {
        case .done: "quell demo: all 5 steps as expected"
        case .failed(let step, let message): "quell demo: step \(step) was not as expected: \(message)"
        case .interrupted(let step): "quell demo: stopped during step \(step)"
        }
    }
}

/// One line on stdout, written at once.
private func say(_ line: String) {
    writeAll(1, line + "\n")
}

/// `count` random bytes as hex.
private func randomHex(_ count: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in
        let byte = UInt8.random(in: 0...255, using: &generator)
        return (byte < 16 ? "0" : "") + String(byte, radix: 16)
    }.joined()
}

/// The monitor's prompt line shows one story line at a time: each stays at
/// least `reading` before the next replaces it, so a person can read it
/// (presentation only: the story's steps wait for job states, not for this).
private actor StoryPacer {
    let feed: AsyncStream<LiveMonitor.Input>.Continuation
    let reading: Duration
    private var shownAt: ContinuousClock.Instant?

    init(_ feed: AsyncStream<LiveMonitor.Input>.Continuation, reading: Duration = .milliseconds(1500)) {
        self.feed = feed
        self.reading = reading
    }

    func show(_ line: String) async {
        if let shownAt { try? await Task.sleep(until: shownAt + reading, clock: .continuous) }
        feed.yield(.story(line))
        shownAt = .now
    }
}

/// The story's lines while the monitor has the screen, printed after it.
private final class Transcript: Sendable {
    private let state = Mutex<[String]>([])
    func append(_ line: String) { state.withLock { $0.append(line) } }
    var lines: [String] { state.withLock { $0 } }
}
