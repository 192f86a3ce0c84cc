import Synchronization

/// The jobs this worker process is running (or whose outcome it is still
/// writing): what the heartbeater reports, what a cancel push looks up.
final class RunningJobs: Sendable {
    private struct Entry {
        let context: JobContext
        var task: Task<Void, Never>?
        var handlerDone = false
    }
    private let entries = Mutex<[String: Entry]>([:])
    private let leaseExpiredHandler = Mutex<(@Sendable () -> Void)?>(nil)

    /// What to do when a job's `checkpoint()` finds its lease may have expired
    /// (the worker beats at once).
    func onLeaseExpired(_ handler: @escaping @Sendable () -> Void) {
        leaseExpiredHandler.withLock { $0 = handler }
    }

    func leaseExpired() { leaseExpiredHandler.withLock { $0 }?() }

    private let cursorSavedHandler = Mutex<(@Sendable () -> Void)?>(nil)

    /// What to do when a handler saves a cursor (the progress writer writes at once).
    func onCursorSaved(_ handler: @escaping @Sendable () -> Void) {
        cursorSavedHandler.withLock { $0 = handler }
    }

    func cursorSaved() { cursorSavedHandler.withLock { $0 }?() }

    /// Ids of the jobs held here (running, or with an outcome being written).
    var ids: [String] { entries.withLock { Array($0.keys) } }

    func add(_ context: JobContext) {
        entries.withLock { $0[context.job.id] = Entry(context: context) }
    }

    /// Attaches the job's task; cancels it at once if a stop came first.
    func attach(_ id: String, task: Task<Void, Never>) {
        let stopNow = entries.withLock { e -> Bool in
            e[id]?.task = task
            return e[id]?.context.stopReason != nil
        }
        if stopNow { task.cancel() }
    }

    /// The handler returned; its outcome is being written.
    func handlerFinished(_ id: String) {
        entries.withLock { $0[id]?.handlerDone = true }
    }

    func remove(_ id: String) {
        _ = entries.withLock { $0.removeValue(forKey: id) }
    }

    /// Asks a running job to stop: records the reason and cancels its Task.
    /// Returns false if the job is not running here (or its handler already returned).
    @discardableResult
    func stop(_ id: String, reason: StopReason) -> Bool {
        let task = entries.withLock { e -> Task<Void, Never>?? in
            guard let entry = e[id], !entry.handlerDone else { return nil }
            return entry.context.requestStop(reason) ? .some(entry.task) : nil
        }
        guard let task else { return false }
        task?.cancel()
        return true
    }

    /// Stops every job whose handler is still running.
    func stopAll(_ reason: StopReason) {
        for id in entries.withLock({ Array($0.keys) }) { stop(id, reason: reason) }
    }

    /// (id, lease) of every job, for the heartbeat.
    var leases: [(id: String, lease: String)] {
        entries.withLock { $0.values.map { ($0.context.job.id, $0.context.lease) } }
    }

    var contexts: [JobContext] { entries.withLock { $0.values.map(\.context) } }

    /// Jobs whose handler is still running.
    var busy: Int { entries.withLock { $0.values.filter { !$0.handlerDone }.count } }

    var isEmpty: Bool { entries.withLock { $0.isEmpty } }
}

/// Counts free slots; `acquire()` suspends (never blocks a thread) until one frees.
final class SlotGate: Sendable {
    private struct State {
        var free: Int
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state: Mutex<State>

    init(slots: Int) { state = Mutex(State(free: slots)) }

    /// Waits until at least one slot is free; returns how many are.
    func waitForFree() async -> Int {
        if let n = state.withLock({ $0.free > 0 ? $0.free : nil }) { return n }
        await withCheckedContinuation { c in
            let resumeNow = state.withLock { s -> Bool in
                if s.free > 0 { return true }
                s.waiter = c
                return false
            }
            if resumeNow { c.resume() }
        }
        return state.withLock { $0.free }
    }

    func take(_ n: Int) { state.withLock { $0.free -= n } }

    func release() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.free += 1
            let w = s.waiter
            s.waiter = nil
            return w
        }
        waiter?.resume()
    }

    /// Wakes a waiter without freeing a slot (shutdown).
    func wake() {
        state.withLock { s -> CheckedContinuation<Void, Never>? in
            let w = s.waiter
            s.waiter = nil
            return w
        }?.resume()
    }
}
