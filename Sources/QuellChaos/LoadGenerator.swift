import Foundation
import Glibc
import Quell
import QuellSystem
import Synchronization

/// Submits the jobs through the API from threads of its own, paced at
/// `rate` per second: `demo.noop`; short `demo.sync` runs with dedupe keys
/// from a small pool per tenant (most triggers meet a live holder: 409), now
/// and then the same trigger twice in a row; `demo.sleep` with its execution
/// log (50–1500 ms, one in twenty 8–15 s). The second half waits for the everysec phase. A 503 or no answer is
/// retried (the job may have been stored anyway: an orphan, checked too).
final class LoadGenerator: Sendable {
    let api: ChaosAPI
    let ledger: Ledger
    let total: Int
    let rate: Double
    private let next = Atomic<Int>(0)
    private let done = Atomic<Int>(0)
    /// When the second half may start (set by the conductor), in seconds since the epoch.
    let secondHalfFrom = Mutex<Double?>(nil)
    static let keysPerTenant = ["acme": 8, "globex": 4]

    init(api: ChaosAPI, ledger: Ledger, total: Int, rate: Double) {
        self.api = api
        self.ledger = ledger
        self.total = total
        self.rate = rate
    }

    var half: Int { total / 2 }
    /// Jobs submitted and answered so far.
    var answered: Int { done.load(ordering: .relaxed) }

    /// Blocks until every job was submitted and answered.
    func run(threads: Int) async {
        let start = now()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<threads {
                group.addTask { await onThread { self.loop(start: start) } }
            }
        }
    }

    private func loop(start: Double) {
        while true {
            let i = next.add(1, ordering: .relaxed).oldValue
            guard i < total else { return }
            var due = start + Double(i) / rate
            if i >= half {
                var from: Double? = nil
                while from == nil {
                    from = secondHalfFrom.withLock { $0 }
                    if from == nil { usleep(20_000) }
                }
                due = from! + Double(i - half) / rate
            }
            let wait = due - now()
            if wait > 0 { usleep(useconds_t(wait * 1_000_000)) }
            submit(i)
            done.add(1, ordering: .relaxed)
        }
    }

    private func submit(_ i: Int) {
        let tenant = Int.random(in: 0..<10) < 7 ? "acme" : "globex"
        let r = Int.random(in: 0..<100)
        let kind: Kind = r < 35 ? .noop : r < 65 ? .sync : .sleep
        var key: String? = nil
        let body: String
        switch kind {
        case .noop:
            body = #"{"type":"demo.noop"}"#
        case .sync:
            let k = "sync-k\(Int.random(in: 0..<(Self.keysPerTenant[tenant] ?? 4)))"
            key = k
            let mode = Bool.random() ? "full" : "incremental"
            let fail = Int.random(in: 0..<5) == 0 ? 0.2 : 0
            body = #"{"type":"demo.sync","key":"\#(k)","params":{"total":\#(Int.random(in: 10...40)),"batch":5,"delay_ms":2,"#
                + #""mode":"\#(mode)","fail_rate":\#(fail),"source":"\#(k)"}}"#
        case .sleep, .anchor:
            // One in twenty runs long enough to outlive a freeze of its worker.
            let ms = Int.random(in: 0..<20) == 0 ? Int.random(in: 8_000...15_000) : Int.random(in: 50...1500)
            body = #"{"type":"demo.sleep","max_attempts":5,"params":{"ms":\#(ms),"log":true}}"#
        }
        submit(body, tenant: tenant, kind: kind, key: key)
        if kind == .sync && Int.random(in: 0..<20) == 0 {
            ledger.count("duplicate triggers (same request twice)")
            submit(body, tenant: tenant, kind: kind, key: key)
        }
    }

    /// POSTs one job until it gets an answer that is not 503; records it.
    @discardableResult
    func submit(_ body: String, tenant: String, kind: Kind, key: String?) -> String? {
        ledger.state.withLock { $0.submitted += 1 }
        let end = now() + 300
        while now() < end {
            guard let a = api.call("POST", "/v1/jobs", token: ChaosAPI.tokens[tenant]!, json: body) else {
                ledger.state.withLock { $0.unavailableAnswers += 1 }
                usleep(100_000)
                continue
            }
            switch a.status {
            case 202:
                guard let id = a.job?["id"]?.stringValue else {
                    ledger.breach("202 without a job id: \(a.body.jsonString)")
                    return nil
                }
                let at = now()
                ledger.state.withLock { $0.accepted.append(Accepted(id: id, tenant: tenant, kind: kind, key: key, at: at)) }
                return id
            case 409 where a.errorCode == "conflict":
                ledger.state.withLock { $0.conflicts += 1 }
                let status = a.jobStatus ?? "?"
                if ["completed", "completed_with_errors", "failed", "cancelled", "timed_out", "?"].contains(status) {
                    ledger.breach("409 conflict on key \(key ?? "?") names a holder that is not live: \(a.body.jsonString)")
                }
                return nil
            case 503:
                ledger.state.withLock { $0.unavailableAnswers += 1 }
                usleep(100_000)
            default:
                ledger.breach("POST /v1/jobs \(body) answered \(a.status) \(a.body.jsonString)")
                return nil
            }
        }
        ledger.breach("POST /v1/jobs got no answer but 503 or none for 300 s")
        return nil
    }
}

/// Runs blocking work on a POSIX thread of its own and awaits it.
func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { c in
        OSThread.start { c.resume(returning: body()) }
    }
}
