/// Sweeps for stuck jobs and dead workers every `interval` seconds (runs in
/// every worker and api process; the script is atomic, so many reapers at
/// once are safe and cheap: each sweep touches only what is due).
public final class Reaper: Sendable {
    private let loop: PeriodicLoop

    public init(store: JobStore, interval: Double, log: @escaping @Sendable (String) -> Void = { _ in }) {
        loop = PeriodicLoop(name: "reaper", interval: interval) {
            do {
                for (action, id) in try await store.reap() {
                    log("reaper: \(action) \(id)")
                }
            } catch {
                log("reaper sweep failed: \(error)")
            }
        }
    }

    public func start() { loop.start() }
    public func shutdown() async { await loop.shutdown() }
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
