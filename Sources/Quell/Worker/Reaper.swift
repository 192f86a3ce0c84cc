/// Sweeps for stuck jobs and dead workers every `interval` seconds (runs in
/// every worker and api process; the script is atomic, so many reapers at
/// once are safe and cheap: each sweep touches only what is due).
///
/// Never wrongly (invariant 6): the script gives no verdicts within one stale
/// window of a Redis restart or of a process regaining Redis (see
/// `JobStore+Liveness`); in a worker, `beforeSweep` beats first when the
/// last beat is overdue (after a freeze), and `ownJobs` are never judged by
/// their own process's reaper.
package final class Reaper: Sendable {
    private let loop: PeriodicLoop

    package convenience init(store: JobStore, interval: Double, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.init(store: store, interval: interval, ownJobs: { [] }, beforeSweep: {}, log: log)
    }

    init(store: JobStore, interval: Double, ownJobs: @escaping @Sendable () -> [String],
         beforeSweep: @escaping @Sendable () async -> Void, log: @escaping @Sendable (String) -> Void) {
        loop = PeriodicLoop(name: "reaper", interval: interval) {
            await beforeSweep()
            do {
                for (action, id) in try await store.reap(ownJobs: ownJobs()) {
                    log("reaper: \(action) \(id)")
                }
            } catch {
                log("reaper sweep failed: \(error)")
            }
        }
    }

    package func start() { loop.start() }
    package func shutdown() async { await loop.shutdown() }
}

/// Moves due delayed retries back to their queues.
final class Forwarder: Sendable {
    private let loop: PeriodicLoop

    init(store: JobStore, queues: [String], interval: Double, log: @escaping @Sendable (String) -> Void) {
        loop = PeriodicLoop(name: "forwarder", interval: interval) {
            do {
                _ = try await store.forward(queues: queues)
            } catch {
                log("forwarder failed: \(error)")
            }
        }
    }

    func start() { loop.start() }
    func shutdown() async { await loop.shutdown() }
}
