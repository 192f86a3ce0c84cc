import Foundation
@testable import Quell

/// Stands in for a worker process (none exists yet): registers itself and
/// heartbeats one started job until a cancel is requested, then confirms it
/// (`cancelling` → `cancelled`, counters kept), as a real worker does at its
/// next checkpoint.
struct FakeWorker: Sendable {
    let store: JobStore
    let id: String
    var queues = ["default"]
    var slots = 4

    /// Heartbeats `started` every `interval` until it is cancelled (then
    /// confirms, if `confirm`, and returns `.cancel`), lost, or the task is cancelled.
    func run(_ started: StartedJob, progress: JobProgress? = nil, interval: Duration = .milliseconds(200),
             confirm: Bool = true) -> Task<JobSignal, Never> {
        let registration = WorkerRegistration(id: id, queues: queues, slots: slots, busy: 1, startedAt: store.clock.now())
        return Task {
            while !Task.isCancelled {
                let signal = (try? await store.heartbeat(registration, jobs: [(started.job.id, started.lease)]))?.first ?? .ok
                switch signal {
                case .cancel:
                    if confirm { _ = try? await store.confirmCancelled(id: started.job.id, lease: started.lease, progress: progress) }
                    return .cancel
                case .pause:
                    if confirm { _ = try? await store.confirmPaused(id: started.job.id, lease: started.lease, progress: progress, cursor: nil) }
                    return .pause
                case .lost, .terminal:
                    return signal
                case .ok, .deadline:
                    break
                }
                try? await Task.sleep(for: interval)
            }
            return .ok
        }
    }
}
