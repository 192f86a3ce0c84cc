import QuellTestSupport
import Foundation
import Testing
@testable import Quell

/// ≥ 8 actors with their own connections hammer ≥ 1 000 jobs with random
/// start / progress / heartbeat / cancel / pause / resume / finish / retry /
/// confirm / abandon / reap calls (and stale leases), while a shared clock
/// jumps. Afterwards the events stream must show, for every job: versions
/// 1, 2, 3… with no gap, nothing after a terminal status, every status change
/// one the lifecycle allows (so no `running` after `cancelling`, `pausing` or
/// `paused` without a resume to `queued` between); every job terminal after
/// a drain; counts per status equal to a full scan.
///
/// `QUELL_STORM_JOBS` / `QUELL_STORM_OPS` make it bigger (scripts/storm).
@Suite("Race storm")
struct RaceStormTests {
    static let jobs = Int(ProcessInfo.processInfo.environment["QUELL_STORM_JOBS"] ?? "") ?? 1000
    static let opsPerActor = Int(ProcessInfo.processInfo.environment["QUELL_STORM_OPS"] ?? "") ?? 2500
    static let actors = 8

    final class Shared: @unchecked Sendable {
        let lock = NSLock()
        /// Started runs, with the job as start packed it (finishes hand it back half the time).
        var runs: [(id: String, lease: String, packed: String?)] = []
        func add(_ r: [(String, String, String?)]) { lock.lock(); runs += r; lock.unlock() }
        /// Every accepted job (pause targets: queued ones too), and the ones a
        /// pause answered for (resume targets).
        var jobs: [String] = []
        var paused: [String] = []
        func addPaused(_ id: String) { lock.lock(); paused.append(id); lock.unlock() }
        func randomJob() -> String? { lock.lock(); defer { lock.unlock() }; return jobs.randomElement() }
        func randomPaused() -> String? { lock.lock(); defer { lock.unlock() }; return paused.randomElement() }
        func random(_ n: Int) -> [(id: String, lease: String, packed: String?)] {
            lock.lock(); defer { lock.unlock() }
            guard !runs.isEmpty else { return [] }
            return (0..<n).map { _ in runs.randomElement()! }
        }
    }

    @Test func invariantsHoldUnderARaceStorm() async throws {
        let clock = ManualClock()
        let prefix = TestRedis.prefix("storm")
        var config = QuellConfiguration(redisURL: TestRedis.url, prefix: prefix)
        config.staleAfter = 10
        config.timeout = TimeoutPolicy(base: 60, perItem: 1, minimum: 30, maximum: 120)
        let stores = (0..<Self.actors).map { i in
            JobStore(redis: TestRedis.client("storm-\(i)"), configuration: config, clock: clock)
        }
        defer { stores.forEach { $0.close() } }
        let shared = Shared()
        let tenants = ["acme", "globex"]
        let requests = (0..<Self.jobs).map { i in
            EnqueueRequest(type: "t", tenant: tenants[i % 2], key: i % 10 == 0 ? "k\(i / 10 % 20)" : nil, maxAttempts: 1 + i % 3)
        }
        var accepted = 0
        for chunk in stride(from: 0, to: requests.count, by: 200) {
            let results = try await stores[0].enqueue(batch: Array(requests[chunk..<min(chunk + 200, requests.count)]))
            let ok = results.compactMap { try? $0.get() }
            accepted += ok.count
            shared.jobs += ok.map(\.id)
        }
        // Every 10th job carries one of 20 keys (all in tenant acme): only the
        // first job per key is accepted while the others are queued.
        let keyed = requests.filter { $0.key != nil }
        #expect(accepted == Self.jobs - keyed.count + Set(keyed.compactMap(\.key)).count)

        try await withThrowingTaskGroup(of: Void.self) { group in
            for (n, store) in stores.enumerated() {
                group.addTask {
                    let worker = "w\(n)"
                    for op in 0..<Self.opsPerActor {
                        switch Int.random(in: 0..<110) {
                        case 100..<104:
                            // A started run (running ones) or any job (queued ones).
                            if let id = Bool.random() ? shared.random(1).first?.id : shared.randomJob() {
                                do {
                                    _ = try await store.pause(id: id, tenant: nil)
                                    shared.addPaused(id)
                                } catch QuellError.notPausable { }
                            }
                        case 104..<107:
                            if let id = shared.randomPaused() {
                                do { _ = try await store.resume(id: id, tenant: nil) } catch QuellError.notResumable { }
                            }
                        case 107..<109:
                            if let r = shared.random(1).first {
                                _ = try await store.confirmPaused(id: r.id, lease: r.lease, progress: JobProgress(counters: ["synced": op]),
                                                                  cursor: "{\"n\":\(op)}")
                            }
                        case 109:
                            if let r = shared.random(1).first {
                                _ = try await store.abandon(id: r.id, lease: r.lease, progress: nil, cursor: nil)
                            }
                        case 0..<20:
                            let r = try await store.start(worker: worker, leasePrefix: "\(worker)#\(op)#", queues: ["default"], count: Int.random(in: 1...5))
                            shared.add(r.started.map { ($0.job.id, $0.lease, $0.packed) })
                        case 20..<40:
                            let reports = shared.random(3).map {
                                ProgressReport(id: $0.id, lease: $0.lease, progress: JobProgress(current: op, total: 100, counters: ["synced": op]))
                            }
                            _ = try await store.progress(reports)
                        case 40..<50:
                            _ = try await store.heartbeat(WorkerRegistration(id: worker, queues: ["default"], slots: 5, busy: 1, startedAt: clock.now()),
                                                          jobs: shared.random(4).map { ($0.id, $0.lease) })
                        case 50..<60:
                            // A started run, or now and then one a pause answered for.
                            if let id = Int.random(in: 0..<4) == 0 ? shared.randomPaused() : shared.random(1).first?.id {
                                do { _ = try await store.cancel(id: id, tenant: nil) } catch QuellError.notCancellable { }
                            }
                        case 60..<75:
                            let statuses: [JobStatus] = [.completed, .completedWithErrors, .failed, .timedOut]
                            _ = try await store.finish(shared.random(2).map {
                                FinishReport(id: $0.id, lease: $0.lease, status: statuses.randomElement()!, error: Bool.random() ? "e\(op)" : nil,
                                             startedAs: Bool.random() ? $0.packed : nil)
                            })
                        case 75..<82:
                            if let r = shared.random(1).first {
                                _ = try await store.confirmCancelled(id: r.id, lease: r.lease, progress: JobProgress(counters: ["synced": op]))
                            }
                        case 82..<90:
                            if let r = shared.random(1).first {
                                _ = try await store.retry(id: r.id, lease: r.lease, delay: Double.random(in: 0...2), error: "e",
                                                          progress: nil, refund: Bool.random())
                            }
                        case 90..<95:
                            _ = try await store.reap(limit: 50)
                            _ = try await store.forward(queues: ["default"])
                        default:
                            clock.advance(by: Double.random(in: 0...3))
                        }
                    }
                }
            }
            try await group.waitForAll()
        }

        // Drain: everything still open must reach a terminal status.
        let store = stores[0]
        for round in 0..<200 {
            clock.advance(by: 200)
            let paused = try await store.jobs(status: .paused, tenant: nil, limit: 1000).jobs
            for job in paused { _ = try await store.cancel(id: job.id, tenant: nil) }
            _ = try await store.reap()
            _ = try await store.forward(queues: ["default"])
            let r = try await store.start(worker: "drain", leasePrefix: "drain#\(round)#", queues: ["default"], count: 500)
            _ = try await store.finish(r.started.map { FinishReport(id: $0.job.id, lease: $0.lease, status: .completed, startedAs: $0.packed) })
            let stats = try await store.stats(tenant: nil)
            if JobStatus.allCases.filter({ !$0.isTerminal }).allSatisfy({ (stats.counts[$0] ?? 0) == 0 }) { break }
        }

        // 1. The events stream tells a legal story for every job.
        let events = try await store.allEvents()
        var byJob: [String: [Job]] = [:]
        for e in events { byJob[e.job.id, default: []].append(e.job) }
        #expect(byJob.count == accepted)
        var violations: [String] = []
        for (id, history) in byJob {
            for (i, j) in history.enumerated() where j.version != i + 1 {
                violations.append("\(id): event \(i) has version \(j.version)")
            }
            if let t = history.firstIndex(where: { $0.status.isTerminal }), t != history.count - 1 {
                violations.append("\(id): change after terminal \(history[t].status)")
            }
            if let c = history.firstIndex(where: { $0.status == .cancelling }),
               history[c...].contains(where: { $0.status == .running || $0.status == .queued }) {
                violations.append("\(id): running or queued after cancelling")
            }
            for (a, b) in zip(history, history.dropFirst()) where a.status != b.status {
                if !(Lifecycle.allowed[a.status]?.contains(b.status) ?? false) {
                    violations.append("\(id): \(a.status.rawValue) → \(b.status.rawValue) (v\(b.version))")
                }
            }
            if !(history.last?.status.isTerminal ?? false) {
                violations.append("\(id): not terminal after drain (\(history.last?.status.rawValue ?? "?"))")
            }
        }
        #expect(violations.isEmpty, "\(violations.prefix(10))")
        // The storm did reach the pause transitions it is meant to check (those
        // it reaches dozens of times a run; a cancel landing in the short
        // pausing window, pausing → cancelling, is rarer and not required).
        let seen = Set(byJob.values.flatMap { h in zip(h, h.dropFirst()).map { "\($0.status.rawValue)→\($1.status.rawValue)" } })
        let pauses: Set = ["queued→paused", "running→pausing", "pausing→paused", "paused→queued", "paused→cancelled"]
        #expect(pauses.isSubset(of: seen), "not seen: \(pauses.subtracting(seen).sorted())")

        // 2. Counts kept by the scripts equal a full scan of the job hashes.
        var scanned: [JobStatus: Int] = [:]
        var cursor = "0"
        repeat {
            let reply = try await store.redis.send(RedisCommand("SCAN", cursor, "MATCH", store.keys.job("*"), "COUNT", 1000))
            let parts = try reply.expectArray()
            cursor = parts[0].string ?? "0"
            let keys = (parts[1].array ?? []).compactMap(\.string)
            let statuses = try await store.redis.pipeline(keys.map { RedisCommand("HGET", $0, "status") })
            for s in statuses { scanned[JobStatus(rawValue: s.string ?? "")!, default: 0] += 1 }
        } while cursor != "0"
        let counted = try await store.stats(tenant: nil).counts
        for s in JobStatus.allCases { #expect((counted[s] ?? 0) == (scanned[s] ?? 0), "\(s): counted \(counted[s] ?? 0), scanned \(scanned[s] ?? 0)") }
        #expect(scanned.values.reduce(0, +) == accepted)
        // And the final hash is the last event of every job, field for field
        // (finishes built some of those events from the workers' copies).
        var differing: [String] = []
        for (id, history) in byJob {
            var job = try await store.job(id: id, tenant: nil)
            job.params = nil
            if job != history.last { differing.append(id) }
        }
        #expect(differing.isEmpty, "\(differing.count) jobs differ from their last event, e.g. \(differing.prefix(3))")
    }
}
