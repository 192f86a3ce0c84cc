import Foundation
import Quell
import QuellTestSupport

/// The final checks, once every accepted job is terminal and the workers
/// have stopped: Redis's state, the events stream and the execution logs
/// against what the drivers recorded. Each breach names the job ids and
/// the evidence; findings that Redis's everysec loss window can explain
/// (see `Ledger.inLossWindow`) are counted apart, never silently.
struct Checker {
    let store: JobStore
    let ledger: Ledger
    let sampler: Sampler
    let poison: Poison
    let cluster: Cluster
    var excused: [String] = []
    var figures: [(String, String)] = []
    var jobs: [String: Job] = [:]
    var histories: [String: [Job]] = [:]

    init(store: JobStore, ledger: Ledger, sampler: Sampler, poison: Poison, cluster: Cluster) {
        self.store = store
        self.ledger = ledger
        self.sampler = sampler
        self.poison = poison
        self.cluster = cluster
    }

    mutating func figure(_ name: String, _ value: Any) { figures.append((name, "\(value)")) }

    /// A finding: a breach, or excused when the fact it rests on was observed in the everysec loss window.
    mutating func finding(_ text: String, observedAt: Double?) {
        if let t = observedAt, ledger.inLossWindow(t) {
            excused.append(text)
            ledger.log("excused (everysec window): \(text)")
        } else {
            ledger.breach(text)
        }
    }

    mutating func run() async throws {
        let s = ledger.snapshot
        try await loadJobsAndEvents()
        checkTerminalAndLost(s)
        try await checkStatsAgainstListing()
        checkHistories()
        checkDedupeOrder()
        checkCancels(s)
        checkTerminalSightings()
        try await checkExecutionLogs(s)
        checkPoison()
        figure("requeues (retries and recoveries: running → queued)", histories.values.reduce(0) { n, h in
            n + zip(h, h.dropFirst()).filter { $0.status == .running && $1.status == .queued }.count
        })
        figure("jobs run more than once (attempt > 1 at the end)", jobs.values.filter { $0.attempt > 1 }.count)
    }

    // MARK: - Loading

    mutating func loadJobsAndEvents() async throws {
        for tenant in ChaosAPI.tenants {
            var cursor: String? = nil
            repeat {
                let page = try await store.jobs(tenant: tenant, limit: 1000, cursor: cursor)
                for j in page.jobs {
                    if j.tenant != tenant { ledger.breach("tenant \(tenant)'s listing holds \(j.id) of tenant \(j.tenant)") }
                    jobs[j.id] = j
                }
                cursor = page.nextCursor
            } while cursor != nil
        }
        var after: String? = nil
        var count = 0
        while true {
            let page = try await store.events(after: after, limit: 1000)
            guard let last = page.last else { break }
            for e in page {
                histories[e.job.id, default: []].append(e.job)
                streamOrder.append(e.job)
            }
            count += page.count
            after = last.id
        }
        figure("events in the stream", count)
    }

    // MARK: - Checks

    mutating func checkTerminalAndLost(_ s: Ledger.State) {
        var lost = 0, stuck = 0, lostInWindow = 0
        let accepted = Set(s.accepted.map(\.id))
        for a in s.accepted {
            guard let j = jobs[a.id] else {
                if ledger.inLossWindow(a.at) { lostInWindow += 1 } else { lost += 1 }
                finding("lost: job \(a.id) (\(a.kind.rawValue), tenant \(a.tenant)) was accepted at \(String(format: "%.3f", a.at)) and is not in Redis", observedAt: a.at)
                continue
            }
            if !j.status.isTerminal { stuck += 1; ledger.breach("stuck: \(a.id) is \(j.status.rawValue) (worker \(j.worker ?? "-"), heartbeat \(j.heartbeatAt.map { "\($0)" } ?? "-"))") }
        }
        let orphans = jobs.values.filter { !accepted.contains($0.id) && !poison.jobIDs.contains($0.id) }
        for j in orphans where !j.status.isTerminal {
            stuck += 1
            ledger.breach("stuck: \(j.id) (stored though its POST got no 202) is \(j.status.rawValue)")
        }
        figure("lost", lost)
        figure("lost within the everysec window (excused)", lostInWindow)
        figure("stuck", stuck)
        figure("orphans (stored though the client got 503 or no answer; all terminal)", orphans.count)
    }

    /// `stats` against a full listing, per tenant and over all tenants.
    mutating func checkStatsAgainstListing() async throws {
        var all: [JobStatus: Int] = [:]
        for tenant in ChaosAPI.tenants {
            var tally: [JobStatus: Int] = [:]
            for j in jobs.values where j.tenant == tenant { tally[j.status, default: 0] += 1; all[j.status, default: 0] += 1 }
            let counts = try await store.stats(tenant: tenant).counts
            for status in JobStatus.allCases where (counts[status] ?? 0) != (tally[status] ?? 0) {
                ledger.breach("stats for \(tenant): \(status.rawValue) = \(counts[status] ?? 0), the full listing has \(tally[status] ?? 0)")
            }
        }
        let counts = try await store.stats(tenant: nil).counts
        for status in JobStatus.allCases where (counts[status] ?? 0) != (all[status] ?? 0) {
            ledger.breach("stats for all tenants: \(status.rawValue) = \(counts[status] ?? 0), the full listing has \(all[status] ?? 0)")
        }
        _ = await sampler.sampleCounts()
    }

    /// The events stream gives every change once: versions 1, 2, 3… per job,
    /// every status change one the lifecycle allows, nothing after a terminal
    /// status, and the last event is the job as stored.
    mutating func checkHistories() {
        for (id, j) in jobs {
            guard let h = histories[id] else { ledger.breach("job \(id) has no events"); continue }
            for v in Lifecycle.violations(of: h) { ledger.breach("events of \(id): \(v)") }
            if let last = h.last, last.version != j.version || last.status != j.status {
                ledger.breach("events of \(id) end at v\(last.version) \(last.status.rawValue), the job is v\(j.version) \(j.status.rawValue)")
            }
        }
        for id in histories.keys where jobs[id] == nil {
            ledger.breach("events name \(id), which is not in any tenant's listing")
        }
    }

    /// One live job per dedupe key at every instant, exactly: in the
    /// stream's order (each event is written by the same atomic call as its
    /// change), a keyed job's first event must come after the terminal
    /// event of the key's previous holder.
    mutating func checkDedupeOrder() {
        var holder: [String: String] = [:]
        var keyed = 0
        for e in streamOrder {
            guard let key = e.key else { continue }
            let k = e.tenant + "/" + key
            if e.version == 1 {
                keyed += 1
                if let h = holder[k] { ledger.breach("dedupe key \(k): \(e.id) was accepted while \(h) was live (no terminal event between)") }
                holder[k] = e.id
            } else if e.status.isTerminal, holder[k] == e.id {
                holder[k] = nil
            }
        }
        figure("keyed jobs checked in stream order", keyed)
    }

    var streamOrder: [Job] = []

    mutating func checkCancels(_ s: Ledger.State) {
        var byAnswer: [String: Int] = [:]
        for c in s.cancels {
            byAnswer["\(c.http) \(c.status)", default: 0] += 1
            guard let j = jobs[c.id] else { continue }  // lost: counted above
            let final = j.status.rawValue
            switch c.status {
            case "cancelled":
                if j.status != .cancelled { finding("cancel of \(c.id) answered cancelled, the job ended \(final)", observedAt: c.at) }
                // Cancelled while queued and never started before: it must never have run.
                if let h = histories[c.id], let i = h.firstIndex(where: { $0.status == .cancelled }), i > 0,
                   h[i - 1].status == .queued, !h[..<i].contains(where: { $0.status == .running }), j.startedAt != nil {
                    finding("\(c.id) was cancelled while queued, never having started, and then started", observedAt: c.at)
                }
            case "cancelling":
                if let h = histories[c.id], let i = h.firstIndex(where: { $0.status == .cancelling }),
                   h[i...].contains(where: { [.queued, .running, .paused, .pausing].contains($0.status) }) {
                    finding("\(c.id) ran on after its cancel was answered cancelling: \(h[i...].map(\.status.rawValue))", observedAt: c.at)
                }
            default:
                // 409 not_cancellable: it had ended, and must have stayed so.
                if c.http == 409 && final != c.status {
                    finding("cancel of \(c.id) answered 409 \(c.status), the job ended \(final)", observedAt: c.at)
                }
            }
        }
        figure("cancels answered", byAnswer.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))
    }

    mutating func checkTerminalSightings() {
        let seen = sampler.terminalSeen.withLock { $0 }
        for (id, t) in seen {
            guard let j = jobs[id] else { continue }
            if j.status.rawValue != t.status || j.version != t.version {
                finding("terminal changed: \(id) was seen \(t.status) v\(t.version), it is now \(j.status.rawValue) v\(j.version)", observedAt: t.at)
            }
        }
        figure("terminal statuses sampled (never changed after)", seen.count)
    }

    /// No job ran on two workers at the same time: for every sleeper, its
    /// runs' `[first, last]` spans (ExecutionLog) must not overlap.
    mutating func checkExecutionLogs(_ s: Ledger.State) async throws {
        let sleepers = jobs.values.filter { $0.type == "demo.sleep" && !poison.jobIDs.contains($0.id) }.map(\.id)
        var cancelledAt: [String: Double] = [:]
        for c in s.cancels where c.status == "cancelled" && c.http == 200 { cancelledAt[c.id] = min(cancelledAt[c.id] ?? c.at, c.at) }
        var doubles = 0, runsSeen = 0, killedRuns = 0, frozenRuns = 0, longestRecovery = 0.0
        for chunk in stride(from: 0, to: sleepers.count, by: 500) {
            let ids = Array(sleepers[chunk..<min(chunk + 500, sleepers.count)])
            let replies = try await store.redis.pipeline(ids.map { RedisCommand("LRANGE", store.keys.app("demo:executions:\($0)"), 0, -1) })
            for (id, reply) in zip(ids, replies) {
                var runs = ExecutionLog.runs((reply.array ?? []).compactMap(\.string))
                let accepted = s.accepted.first { $0.id == id }?.at
                for i in runs.indices {
                    runsSeen += 1
                    if runs[i].first == nil { runs[i].first = runs[i].last }
                    if runs[i].last == nil {
                        if let pid = runs[i].pid, let died = s.deaths[pid] {
                            runs[i].last = Int64(died * 1_000_000)
                            runs[i].closedBy = "kill -9"
                            killedRuns += 1
                        } else {
                            finding("execution log of \(id): run \(runs[i].lease) on \(runs[i].worker) started and never ended, and its worker was not killed",
                                    observedAt: runs[i].first.map { Double($0) / 1e6 })
                            runs[i].last = Int64.max
                        }
                    }
                }
                runs.sort { ($0.first ?? 0) < ($1.first ?? 0) }
                if let cancelledAt = cancelledAt[id], let late = runs.first(where: { ($0.first ?? 0) > Int64(cancelledAt * 1_000_000) }) {
                    finding("\(id) was answered cancelled at \(Int64(cancelledAt * 1_000_000)) µs, and run \(late.lease) began at \(late.first!) µs",
                            observedAt: cancelledAt)
                }
                if let h = histories[id], let i = h.firstIndex(where: { $0.status == .cancelled }),
                   !h[..<i].contains(where: { $0.status == .running }), let r = runs.first {
                    finding("\(id) never started before it was cancelled (its events), yet run \(r.lease) is logged", observedAt: accepted)
                }
                for (a, b) in zip(runs, runs.dropFirst()) {
                    // Recovery: from the kill (or the freeze) of a's worker to b's first checkpoint.
                    if let pid = a.pid, let bFirst = b.first {
                        var cut: Double? = nil
                        if a.closedBy == "kill -9" { cut = s.deaths[pid] }
                        if let f = s.freezes[pid], let aLast = a.last, Double(aLast) / 1e6 <= f.from + 0.05, a.closedBy == "stop" {
                            cut = f.from
                            frozenRuns += 1
                        }
                        if let cut { longestRecovery = max(longestRecovery, Double(bFirst) / 1e6 - cut) }
                    }
                    if let aLast = a.last, let bFirst = b.first, bFirst <= aLast {
                        doubles += 1
                        // Excusable only when Redis kept no trace of the earlier run
                        // (no event names its worker): the loss window ate its start.
                        let traceless = !(histories[id]?.contains { $0.worker == a.worker } ?? false)
                        finding("double run of \(id): \(a.lease) on \(a.worker) worked until \(aLast) µs (\(a.closedBy)), "
                                + "\(b.lease) on \(b.worker) began at \(bFirst) µs",
                                observedAt: traceless ? a.first.map { Double($0) / 1e6 } : nil)
                    }
                }
                if jobs[id]?.status == .completed && !runs.contains(where: { $0.closedBy == "end" }) {
                    finding("\(id) is completed but no run of it logged its end", observedAt: accepted)
                }
            }
        }
        figure("sleeper runs logged", runsSeen)
        figure("runs cut by kill -9", killedRuns)
        figure("runs stopped on a frozen worker, then recovered", frozenRuns)
        figure("double-runs", doubles)
        figure("longest recovery (kill -9 or SIGSTOP → next run's first checkpoint)", String(format: "%.2f s", longestRecovery))
    }

    mutating func checkPoison() {
        if let j = jobs[poison.notJSON] {
            if j.status != .failed || !(j.error ?? "").contains("cannot decode params") {
                ledger.breach("poison \(j.id) (params not JSON) ended \(j.status.rawValue): \(j.error ?? "no error")")
            }
        } else { ledger.breach("poison job \(poison.notJSON) (params not JSON) is gone") }
        if let j = jobs[poison.unknownType] {
            if j.status != .failed || !(j.error ?? "").contains("no handler") {
                ledger.breach("poison \(j.id) (unknown task type) ended \(j.status.rawValue): \(j.error ?? "no error")")
            }
        } else { ledger.breach("poison job \(poison.unknownType) (unknown type) is gone") }
        let logs = cluster.workerLogs.values.compactMap { try? String(contentsOfFile: $0, encoding: .utf8) }.joined(separator: "\n")
        for id in poison.droppedIDs where !logs.contains("skipped \(id)") {
            ledger.breach("poison queue entry \(id) was not dropped with a 'skipped \(id)' log line")
        }
    }
}
