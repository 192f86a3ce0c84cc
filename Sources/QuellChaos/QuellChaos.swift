// quell-chaos: the chaos suite (scripts/chaos). See docs/internals.md,
// "The chaos suite", for what it does and the definitions it checks by.
import Foundation
import Glibc
import Quell
import QuellSystem

struct ChaosSettings: Sendable {
    var jobs = 10_000
    var rate = 60.0
    var workers = 4
    var concurrency = 6
    var heartbeat = 0.5
    var staleAfter = 3.0
    var shutdownGrace = 5.0
    /// Hang guard for "every accepted job terminal" after the load: it fails
    /// loudly; nothing passes or fails by it otherwise.
    var settleGuard = 600.0
    var keepLogs = false
    var sabotage: Sabotage?
}

@main
struct QuellChaos {
    static func main() async {
        var settings = ChaosSettings()
        var args = Array(CommandLine.arguments.dropFirst())
        while let a = args.first {
            args.removeFirst()
            switch a {
            case "--quick": settings.jobs = 3_000; settings.rate = 45
            case "--jobs": settings.jobs = Int(args.first ?? "") ?? settings.jobs; args = Array(args.dropFirst())
            case "--keep-logs": settings.keepLogs = true
            case "--sabotage":
                guard let s = Sabotage(rawValue: args.first ?? "") else {
                    FileHandle.standardError.write(Data("--sabotage takes one of \(Sabotage.allCases.map(\.rawValue))\n".utf8))
                    exit(2)
                }
                settings.sabotage = s
                args.removeFirst()
            default:
                FileHandle.standardError.write(Data("usage: quell-chaos [--quick] [--jobs N] [--keep-logs] [--sabotage NAME]\n".utf8))
                exit(2)
            }
        }
        let ledger = Ledger()
        do {
            exit(try await run(settings, ledger))
        } catch {
            ledger.log("chaos run failed: \(error)")
            exit(1)
        }
    }

    static func run(_ settings: ChaosSettings, _ ledger: Ledger) async throws -> Int32 {
        let own = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let quell = ProcessInfo.processInfo.environment["QUELL_BINARY"] ?? own.appendingPathComponent("quell").path
        guard FileManager.default.isExecutableFile(atPath: quell) else { throw ChaosFailure("no quell binary at \(quell)") }
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent("quell-chaos-\(getpid())").path
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        ledger.log("\(settings.jobs) jobs at \(settings.rate)/s, \(settings.workers) workers × \(settings.concurrency) slots, "
                   + "heartbeat \(settings.heartbeat)s, stale-after \(settings.staleAfter)s; logs in \(logs)")

        let cluster = try Cluster(settings: settings, ledger: ledger, quell: quell, logs: logs)
        // The whole run's hang guard: it fails loudly, and decides nothing else.
        let hangGuard = settings.settleGuard + Double(settings.jobs) / settings.rate * 4 + 300
        OSThread.start {
            usleep(useconds_t(hangGuard * 1_000_000))
            ledger.log("HANG GUARD: the run did not end within \(Int(hangGuard)) s; killing its processes (logs in \(logs))")
            cluster.killAll()
            exit(1)
        }
        do {
            return try await run(settings, ledger, cluster, logs)
        } catch {
            ledger.log("chaos run failed: \(error); logs in \(logs)")
            await onThread { cluster.killAll() }
            return 1
        }
    }

    static func run(_ settings: ChaosSettings, _ ledger: Ledger, _ cluster: Cluster, _ logs: String) async throws -> Int32 {
        try cluster.startAPI()
        for slot in 0..<settings.workers { try cluster.startWorker(slot) }
        var config = QuellConfiguration(redisURL: cluster.redisURL, prefix: cluster.prefix)
        config.staleAfter = settings.staleAfter
        let store = JobStore(redis: RedisClient(url: cluster.redisURL, options: RedisOptions(connectTimeout: 1, commandTimeout: 5,
                                                                                            clientName: "chaos-checker")),
                             configuration: config)
        // The first stats call builds the counts hash's `built` mark (a store
        // never read that way would rebuild its counts from the indexes at the
        // end, and the final check would not see the running counts at all).
        _ = try await store.stats(tenant: nil)
        let api = ChaosAPI(port: cluster.apiPort)
        let load = LoadGenerator(api: api, ledger: ledger, total: settings.jobs, rate: settings.rate)
        let meddler = Meddler(api: api, ledger: ledger, opsPerSecond: 15)
        let sampler = Sampler(store: store, ledger: ledger)
        let conductor = Conductor(cluster: cluster, load: load, api: api, ledger: ledger)

        // A body that is not JSON is refused at the door (the poison the API can be handed).
        let refused = await onThread { api.call("POST", "/v1/jobs", token: ChaosAPI.tokens["acme"]!, json: "{not json") }
        if refused?.status != 400 || refused?.errorCode == nil {
            ledger.breach("POST /v1/jobs with a body that is not JSON answered \(refused.map { "\($0.status) \($0.body.jsonString)" } ?? "nothing")")
        }

        let started = now()
        let sampling = Task { await sampler.run() }
        let meddling = Task { await onThread { meddler.run() } }
        let faults = Task { () -> String? in
            await onThread { () -> String? in
                do { try conductor.run(); return nil } catch { return "\(error)" }
            }
        }
        let loading = Task { await load.run(threads: 4) }

        // Poison, once a tenth of the load is in.
        while load.answered < settings.jobs / 10 { try? await Task.sleep(for: .milliseconds(50)) }
        var poison = Poison()
        for _ in 0..<200 {
            do { poison = try await Poison.inject(store); break } catch { try? await Task.sleep(for: .milliseconds(100)) }
        }
        ledger.event("poison injected: \(poison.notJSON) (params not JSON), \(poison.unknownType) (unknown type), "
                     + "\(poison.garbage) (garbage hash), \(poison.dangling.joined(separator: ", ")) (no job)")

        if let sabotage = settings.sabotage {
            while load.answered < settings.jobs / 2 { try? await Task.sleep(for: .milliseconds(50)) }
            try await sabotage.duringRun(store, ledger)
        }
        await loading.value
        ledger.event("load done: \(load.answered) answered")
        if let failure = await faults.value { ledger.breach("fault schedule failed: \(failure)") }
        meddler.stop()
        await meddling.value

        // Every accepted job terminal: resume what is paused, until none is live.
        if await settle(store: store, api: api, ledger: ledger, guard: settings.settleGuard) {
            ledger.event("all jobs terminal")
        }
        sampler.stop()
        await sampling.value
        await onThread { cluster.stopAll() }
        try await settings.sabotage?.afterRun(store, ledger)

        var checker = Checker(store: store, ledger: ledger, sampler: sampler, poison: poison, cluster: cluster)
        try await checker.run()
        let duration = now() - started
        report(ledger, checker, settings, duration)
        store.close()
        await onThread { cluster.redis.stop() }
        let breaches = ledger.snapshot.breaches
        if breaches.isEmpty {
            if !settings.keepLogs { try? FileManager.default.removeItem(atPath: logs) }
            print("chaos: PASSED (\(String(format: "%.0f", duration)) s)")
            return 0
        }
        print("chaos: FAILED — \(breaches.count) breaches (logs kept in \(logs)):")
        for b in breaches.prefix(50) { print("  " + b) }
        return 1
    }

    /// Waits until every job is terminal, resuming paused ones; fails loudly after `guard` seconds.
    static func settle(store: JobStore, api: ChaosAPI, ledger: Ledger, guard seconds: Double) async -> Bool {
        let end = now() + seconds
        var live: [Job] = []
        while now() < end {
            live = []
            for tenant in ChaosAPI.tenants {
                for status in JobStatus.allCases where !status.isTerminal {
                    live += (try? await store.jobs(status: status, tenant: tenant, limit: 1000).jobs) ?? []
                }
            }
            if live.isEmpty { return true }
            for j in live where j.status == .paused {
                _ = await onThread { api.call("POST", "/v1/jobs/\(j.id)/resume", token: ChaosAPI.tokens[j.tenant]!) }
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
        for j in live.prefix(20) {
            ledger.breach("stuck: \(j.id) (\(j.type)) is still \(j.status.rawValue) \(Int(seconds)) s after the load ended; worker \(j.worker ?? "-")")
        }
        ledger.breach("\(live.count)+ jobs not terminal \(Int(seconds)) s after the load ended")
        return false
    }

    static func report(_ ledger: Ledger, _ checker: Checker, _ settings: ChaosSettings, _ duration: Double) {
        let s = ledger.snapshot
        var kinds: [Kind: Int] = [:]
        for a in s.accepted { kinds[a.kind, default: 0] += 1 }
        print("== chaos: timeline")
        for line in s.timeline { print("  " + line) }
        print("== chaos: figures")
        var rows: [(String, String)] = [
            ("jobs submitted", "\(s.submitted)"),
            ("jobs accepted", "\(s.accepted.count) (" + Kind.allCases.map { "\($0.rawValue) \(kinds[$0] ?? 0)" }.joined(separator: ", ") + ")"),
            ("409 conflicts (a live holder of the key)", "\(s.conflicts)"),
            ("503 or no answer (retried)", "\(s.unavailableAnswers)"),
            ("pauses answered, resumes answered", "\(s.pauses), \(s.resumes)"),
            ("tenant-wall probes", "\(s.wallProbes)"),
        ]
        rows += s.counters.sorted { $0.key < $1.key }.map { ($0.key, "\($0.value)") }
        rows += checker.figures
        rows.append(("findings excused by the everysec window", "\(checker.excused.count)"))
        rows.append(("breaches", "\(s.breaches.count)"))
        rows.append(("duration", String(format: "%.0f s", duration)))
        let width = rows.map(\.0.count).max() ?? 0
        for (k, v) in rows { print("  " + k.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + v) }
        for e in checker.excused { print("  excused: " + e) }
    }
}
