import FoundationEssentials
import Synchronization

/// One batched call per interval: refreshes this worker's registration and
/// the heartbeat of every job it runs. The reply is the fallback cancel (and
/// pause) path: a request whose push was lost still lands within one interval.
///
/// Each confirmed beat renews the lease of every job it carried
/// (`JobContext.confirmLease`), which `checkpoint()` checks locally: a
/// process that was frozen, or cut off from Redis, for stale-after stops its
/// handlers at their next checkpoint instead of running on beside the run a
/// reaper may have started elsewhere.
final class Heartbeater: Sendable {
    private let loop: PeriodicLoop
    private let beat: @Sendable () async -> Void
    private let lastBeat: LastBeat
    private let interval: Double
    private let clock: any QuellClock

    init(store: JobStore, running: RunningJobs, registration: @escaping @Sendable () -> WorkerRegistration,
         interval: Double, log: @escaping @Sendable (String) -> Void) {
        let lastBeat = LastBeat()
        let clock = store.clock
        let beat: @Sendable () async -> Void = {
            let contexts = running.contexts
            let sentAt = clock.now()
            if let last = lastBeat.value, sentAt.timeIntervalSince(last) > 3 * interval + 1 {
                log("heartbeat: \(Int(sentAt.timeIntervalSince(last)))s since the last confirmed beat "
                    + "(process paused, Redis unreachable, or the clock jumped)")
            }
            do {
                let signals = try await store.heartbeat(registration(), jobs: contexts.map { ($0.job.id, $0.lease) })
                lastBeat.record(sentAt)
                for (context, signal) in zip(contexts, signals) {
                    let id = context.job.id
                    switch signal {
                    case .ok: context.confirmLease(at: sentAt)
                    case .cancel:
                        context.confirmLease(at: sentAt)
                        running.stop(id, reason: .cancel)
                    case .pause:
                        context.confirmLease(at: sentAt)
                        running.stop(id, reason: .pause)
                    case .deadline:
                        context.confirmLease(at: sentAt)
                        running.stop(id, reason: .deadline)
                    case .lost, .terminal: running.stop(id, reason: .lost)
                    }
                }
            } catch {
                log("heartbeat failed: \(error)")
            }
        }
        self.beat = beat
        self.lastBeat = lastBeat
        self.interval = interval
        self.clock = clock
        loop = PeriodicLoop(name: "heartbeat", interval: interval) { await beat() }
    }

    func start() { loop.start() }
    /// Beat now (e.g. after the cancel listener reconnects: catch up on missed cancels).
    func beatNow() { loop.poke() }

    /// Beats and waits for it when the last confirmed beat is overdue (the
    /// process was frozen or Redis was away): a process beats before its
    /// reaper sweeps, so it never judges by its own missing heartbeats.
    func beatIfOverdue() async {
        let now = clock.now()
        let last = lastBeat.value
        if let last, now.timeIntervalSince(last) <= 1.5 * interval { return }
        await beat()
    }

    func shutdown() async { await loop.shutdown() }
}

/// When the last beat that Redis confirmed was sent.
private final class LastBeat: Sendable {
    private let state = Mutex<Date?>(nil)
    var value: Date? { state.withLock { $0 } }
    func record(_ sentAt: Date) { state.withLock { $0 = max($0 ?? sentAt, sentAt) } }
}
