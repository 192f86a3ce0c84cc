import FoundationEssentials

/// One batched call per interval: refreshes this worker's registration and
/// the heartbeat of every job it runs. The reply is the fallback cancel path:
/// a cancel whose push was lost still lands within one interval.
final class Heartbeater: Sendable {
    private let loop: PeriodicLoop

    init(store: JobStore, running: RunningJobs, registration: @escaping @Sendable () -> WorkerRegistration,
         interval: Double, log: @escaping @Sendable (String) -> Void) {
        loop = PeriodicLoop(name: "heartbeat", interval: interval) {
            let jobs = running.leases
            do {
                let signals = try await store.heartbeat(registration(), jobs: jobs)
                for (job, signal) in zip(jobs, signals) {
                    switch signal {
                    case .ok: break
                    case .cancel: running.stop(job.id, reason: .cancel)
                    case .deadline: running.stop(job.id, reason: .deadline)
                    case .lost, .terminal: running.stop(job.id, reason: .lost)
                    }
                }
            } catch {
                log("heartbeat failed: \(error)")
            }
        }
    }

    func start() { loop.start() }
    /// Beat now (e.g. after the cancel listener reconnects: catch up on missed cancels).
    func beatNow() { loop.poke() }
    func shutdown() async { await loop.shutdown() }
}
