import Synchronization

/// At most `slots` handlers run at once. A job started ahead of a free slot
/// (see `Processor.aheadAllowance`) waits here for its turn, first come first
/// served, without holding a thread. A wait ends without a turn when the
/// waiting task is cancelled (the job's stop reason then decides its
/// outcome, and its handler never runs) or when the job is given back
/// (`giveBack`: it waited too long, or the worker stops fetching).
///
/// Turns are keyed by the run's lease, so giving one back is idempotent:
/// the hard stop frees the turn of a handler it abandons, and that handler's
/// own task, returning later, frees nothing.
final class HandlerTurns: Sendable {
    /// How a wait ended.
    enum Wait: Sendable, Equatable {
        /// The handler may run.
        case turn
        /// The waiting task was cancelled (a stop request).
        case cancelled
        /// Given back: the job goes back to its queue without running here.
        case givenBack
    }

    private struct Waiter {
        let ticket: UInt64
        let lease: String
        let since: ContinuousClock.Instant
        let continuation: CheckedContinuation<Wait, Never>
    }
    private struct State {
        var free: Int
        var holders: Set<String> = []
        var waiters: [Waiter] = []
        var tickets: UInt64 = 0
        /// The watchdog waiting for a waiter to appear (`oldestWaiter`).
        var watcher: CheckedContinuation<ContinuousClock.Instant?, Never>?
        var closed = false
    }
    private let state: Mutex<State>

    init(slots: Int) { state = Mutex(State(free: slots)) }

    /// Waits for a turn for the run `lease`.
    func acquire(lease: String) async -> Wait {
        let ticket = state.withLock { s -> UInt64? in
            if s.free > 0 && s.waiters.isEmpty {
                s.free -= 1
                s.holders.insert(lease)
                return nil
            }
            s.tickets += 1
            return s.tickets
        }
        guard let ticket else { return .turn }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Wait, Never>) in
                var watcher: CheckedContinuation<ContinuousClock.Instant?, Never>?
                let since = ContinuousClock.now
                let now = state.withLock { s -> Wait? in
                    if Task.isCancelled { return .cancelled }
                    if s.closed { return .givenBack }
                    if s.free > 0 && s.waiters.isEmpty {
                        s.free -= 1
                        s.holders.insert(lease)
                        return .turn
                    }
                    s.waiters.append(Waiter(ticket: ticket, lease: lease, since: since, continuation: c))
                    watcher = s.watcher
                    s.watcher = nil
                    return nil
                }
                if let now { c.resume(returning: now) }
                watcher?.resume(returning: since)
            }
        } onCancel: {
            let waiter = state.withLock { s -> Waiter? in
                guard let i = s.waiters.firstIndex(where: { $0.ticket == ticket }) else { return nil }
                return s.waiters.remove(at: i)
            }
            waiter?.continuation.resume(returning: .cancelled)
        }
    }

    /// Gives back the turn of `lease` (nothing if it holds none): the next
    /// waiter gets it.
    func release(lease: String) {
        let next = state.withLock { s -> Waiter? in
            guard s.holders.remove(lease) != nil else { return nil }
            if s.waiters.isEmpty {
                s.free += 1
                return nil
            }
            let w = s.waiters.removeFirst()
            s.holders.insert(w.lease)
            return w
        }
        next?.continuation.resume(returning: .turn)
    }

    /// Ends the waits that began before `instant` (all of them when nil, and
    /// every later one at once: the worker stops fetching) with `.givenBack`.
    /// Returns how many it ended.
    @discardableResult
    func giveBack(waitingSince instant: ContinuousClock.Instant?) -> Int {
        let (ended, watcher) = state.withLock { s -> ([Waiter], CheckedContinuation<ContinuousClock.Instant?, Never>?) in
            var ended: [Waiter] = []
            if let instant {
                while let first = s.waiters.first, first.since <= instant { ended.append(s.waiters.removeFirst()) }
                return (ended, nil)
            }
            s.closed = true
            ended = s.waiters
            s.waiters = []
            let w = s.watcher
            s.watcher = nil
            return (ended, w)
        }
        for w in ended { w.continuation.resume(returning: .givenBack) }
        watcher?.resume(returning: nil)
        return ended.count
    }

    /// When the longest wait began; suspends until there is one. Nil once
    /// closed (`giveBack(waitingSince: nil)`). One caller at a time.
    func oldestWaiter() async -> ContinuousClock.Instant? {
        await withCheckedContinuation { (c: CheckedContinuation<ContinuousClock.Instant?, Never>) in
            let now = state.withLock { s -> ContinuousClock.Instant?? in
                if s.closed { return .some(nil) }
                if let first = s.waiters.first { return .some(first.since) }
                s.watcher = c
                return nil
            }
            if let now { c.resume(returning: now) }
        }
    }

    /// Handlers running now.
    var running: Int { state.withLock { $0.holders.count } }

    /// Started jobs waiting for a turn.
    var waiting: Int { state.withLock { $0.waiters.count } }
}
