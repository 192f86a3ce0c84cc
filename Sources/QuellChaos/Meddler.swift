import Foundation
import Glibc
import Quell
import Synchronization

/// Random cancels, pauses and resumes through the API while the load runs,
/// on recently accepted jobs (queued, running or just finished), each answer
/// recorded for the final checks; and tenant-wall probes: another tenant's
/// token must get 404 for a job, to read it or to cancel it.
final class Meddler: Sendable {
    let api: ChaosAPI
    let ledger: Ledger
    let opsPerSecond: Double
    private let stopped = Atomic<Bool>(false)

    init(api: ChaosAPI, ledger: Ledger, opsPerSecond: Double) {
        self.api = api
        self.ledger = ledger
        self.opsPerSecond = opsPerSecond
    }

    func stop() { stopped.store(true, ordering: .relaxed) }

    /// Blocks until `stop()`.
    func run() {
        while !stopped.load(ordering: .relaxed) {
            usleep(useconds_t(1_000_000 / opsPerSecond))
            let (recent, paused) = ledger.state.withLock { s in
                // Mostly the latest sleepers (likely queued or running), else any recent job.
                let latest = s.accepted.suffix(60)
                let pick = Bool.random() ? latest.filter(\.kind.sleeps).randomElement() : latest.randomElement()
                return (pick, s.paused.filter { now() - $0.value.at > 0.3 }.randomElement())
            }
            let r = Int.random(in: 0..<100)
            // Resumes as often as pauses and cancels, so paused jobs (which keep
            // their dedupe keys) do not pile up and starve the keyed syncs.
            if r < 35, let job = recent {
                cancel(job.id, tenant: job.tenant)
            } else if r < 55, let job = recent {
                pause(job.id, tenant: job.tenant)
            } else if r < 90, let (id, p) = paused {
                resume(id, tenant: p.tenant)
            } else if r < 95, let (id, p) = paused {
                cancel(id, tenant: p.tenant)
            } else if let job = recent {
                probeWall(job)
            }
        }
    }

    func cancel(_ id: String, tenant: String) {
        guard let a = api.call("POST", "/v1/jobs/\(id)/cancel", token: ChaosAPI.tokens[tenant]!) else { return }
        switch (a.status, a.errorCode) {
        case (200, _), (409, "not_cancellable"):
            let job = a.job
            let answer = CancelAnswer(id: id, http: a.status, status: a.jobStatus ?? "?", attempt: job?["attempt"]?.intValue ?? -1,
                                      started: job?["started_at"]?.stringValue != nil, at: now())
            ledger.state.withLock { s in
                s.cancels.append(answer)
                s.paused.removeValue(forKey: id)
            }
        case (503, _): break
        default: ledger.breach("cancel of \(id) answered \(a.status) \(a.body.jsonString)")
        }
    }

    func pause(_ id: String, tenant: String) {
        guard let a = api.call("POST", "/v1/jobs/\(id)/pause", token: ChaosAPI.tokens[tenant]!) else { return }
        switch a.status {
        case 200:
            guard a.jobStatus == "paused" || a.jobStatus == "pausing" else {
                ledger.breach("pause of \(id) answered 200 with status \(a.jobStatus ?? "?")")
                return
            }
            ledger.state.withLock { s in
                s.pauses += 1
                s.paused[id] = (tenant, now())
            }
        case 409, 503: break
        default: ledger.breach("pause of \(id) answered \(a.status) \(a.body.jsonString)")
        }
    }

    /// Resumes a paused job (or keeps it for later while it is still pausing).
    func resume(_ id: String, tenant: String) {
        guard let a = api.call("POST", "/v1/jobs/\(id)/resume", token: ChaosAPI.tokens[tenant]!) else { return }
        switch a.status {
        case 200:
            ledger.state.withLock { s in
                s.resumes += 1
                s.paused.removeValue(forKey: id)
            }
        case 409 where a.errorCode == "not_resumable":
            // Still pausing: try again later. Ended otherwise (a pausing run
            // that completed, a cancel): nothing to resume.
            if a.jobStatus != "pausing" { _ = ledger.state.withLock { $0.paused.removeValue(forKey: id) } }
        case 503: break
        default: ledger.breach("resume of \(id) answered \(a.status) \(a.body.jsonString)")
        }
    }

    private func probeWall(_ job: Accepted) {
        let other = ChaosAPI.tenants.first { $0 != job.tenant }!
        let token = ChaosAPI.tokens[other]!
        ledger.state.withLock { $0.wallProbes += 1 }
        if let a = api.call("GET", "/v1/jobs/\(job.id)", token: token), a.status != 404, a.status != 503 {
            ledger.breach("tenant \(other) read \(job.tenant)'s job \(job.id): \(a.status) \(a.body.jsonString)")
        }
        if let a = api.call("POST", "/v1/jobs/\(job.id)/cancel", token: token), a.status != 404, a.status != 503 {
            ledger.breach("tenant \(other) cancelled \(job.tenant)'s job \(job.id): \(a.status) \(a.body.jsonString)")
        }
    }
}
