import Synchronization

/// A small background loop: runs `tick` every `interval` seconds until shut
/// down; `poke()` runs the next tick early. Each worker component is one of these.
final class PeriodicLoop: Sendable {
    let name: String
    private let interval: Double
    private let tick: @Sendable () async -> Void
    private struct State {
        var task: Task<Void, Never>?
        var wake: CheckedContinuation<Void, Never>?
        var poked = false
        var stopped = false
        /// Counts sleeps, so a late timer cannot wake a later sleep.
        var generation = 0
    }
    private let state = Mutex(State())

    init(name: String, interval: Double, tick: @escaping @Sendable () async -> Void) {
        self.name = name
        self.interval = interval
        self.tick = tick
    }

    func start(runFirstTickNow: Bool = true) {
        let task = Task { [self] in
            if !runFirstTickNow { await sleep() }
            while !state.withLock({ $0.stopped }) {
                await tick()
                await sleep()
            }
        }
        state.withLock { $0.task = task }
    }

    /// Runs the next tick now instead of at the end of the interval.
    func poke() { wake(generation: nil) }

    func shutdown() async {
        let task = state.withLock { s -> Task<Void, Never>? in
            s.stopped = true
            return s.task
        }
        poke()
        await task?.value
    }

    private func wake(generation: Int?) {
        let w = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if let generation, generation != s.generation { return nil }
            let w = s.wake
            s.wake = nil
            if w == nil { s.poked = true }
            return w
        }
        w?.resume()
    }

    private func sleep() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let (now, generation) = state.withLock { s -> (Bool, Int) in
                s.generation += 1
                if s.poked || s.stopped {
                    s.poked = false
                    return (true, s.generation)
                }
                s.wake = c
                return (false, s.generation)
            }
            if now {
                c.resume()
                return
            }
            Task { [interval] in
                try? await Task.sleep(for: .seconds(interval))
                self.wake(generation: generation)
            }
        }
    }
}
