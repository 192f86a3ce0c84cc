import Foundation
import Glibc
import Quell

/// The fault schedule, on a thread of its own. Phase 1 runs with
/// `appendfsync always`, phase 2 with `everysec`; each repeats its cycle
/// until the load generator has answered that phase's half of the jobs:
///   kill -9 of a worker running a sleeper (restarted after) · a worker
///   SIGSTOPped for stale-after + 2 s, then SIGCONT · Redis SIGSTOPped for
///   0.8 × stale-after (an outage a little shorter than stale-after) ·
///   another kill -9 · Redis kill -9 and restart from its append-only file ·
///   a graceful SIGTERM of a busy worker (exit 0 expected; restarted after).
/// Each fault waits for its condition (a sleeper running on the victim) —
/// enqueueing a long "anchor" sleeper when none runs — never for a time.
final class Conductor: Sendable {
    let cluster: Cluster
    let load: LoadGenerator
    let api: ChaosAPI
    let ledger: Ledger

    init(cluster: Cluster, load: LoadGenerator, api: ChaosAPI, ledger: Ledger) {
        self.cluster = cluster
        self.load = load
        self.api = api
        self.ledger = ledger
    }

    func run() throws {
        let stale = cluster.settings.staleAfter
        for phase in 1...2 {
            if phase == 2 {
                try cluster.setFsync("everysec")
                let from = now()
                ledger.state.withLock { $0.everysecFrom = from }
                load.secondHalfFrom.withLock { $0 = from }
            }
            let quota = phase == 1 ? load.half : load.total
            repeat {
                try cluster.kill9(busyWorker())
                settle()
                cluster.freeze(busyWorker(long: true), seconds: stale + 2)
                settle()
                cluster.freezeRedis(seconds: stale * 0.8)
                settle()
                try cluster.kill9(busyWorker())
                settle()
                try cluster.killRedis()
                settle()
                try cluster.terminate(busyWorker())
                settle()
                cluster.checkWorkersAlive()
            } while load.answered < quota
            ledger.event("phase \(phase) done: \(load.answered) jobs answered")
        }
    }

    /// A breather between faults, so each lands on a running system.
    private func settle() {
        usleep(1_500_000)
        cluster.checkWorkersAlive()
    }

    /// A worker slot whose process runs a sleeper now (with `long`, one of
    /// ≥ 8 s, so that its recovered run elsewhere still runs when the frozen
    /// worker wakes up). When none does, an anchor sleeper (30 s) is
    /// enqueued and waited for.
    private func busyWorker(long: Bool = false) -> Int {
        var anchored = false
        let end = now() + 300
        while now() < end {
            if let a = api.call("GET", "/v1/jobs?status=running&limit=200", token: ChaosAPI.adminToken), a.status == 200,
               case .array(let jobs)? = a.body["jobs"] {
                let slots = jobs.compactMap { j -> Int? in
                    guard j["type"]?.stringValue == "demo.sleep", let w = j["worker"]?.stringValue else { return nil }
                    if long && (j["params"]?["ms"]?.intValue ?? 0) < 8_000 { return nil }
                    let parts = w.split(separator: ":")
                    guard parts.count >= 3, let pid = Int32(parts[parts.count - 2]) else { return nil }
                    return cluster.slot(ofPID: pid)
                }
                if let slot = slots.randomElement() { return slot }
            }
            if !anchored {
                anchored = true
                ledger.count("anchor sleepers")
                load.submit(#"{"type":"demo.sleep","max_attempts":5,"params":{"ms":30000,"log":true}}"#,
                            tenant: "acme", kind: .anchor, key: nil)
            }
            usleep(100_000)
        }
        ledger.breach("no worker ran a sleeper for 300 s (an anchor was enqueued)")
        return 0
    }
}
