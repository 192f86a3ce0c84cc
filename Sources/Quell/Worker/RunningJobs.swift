import Synchronization

/// The jobs this worker process is running (or whose outcome it is still
/// writing): what the heartbeater reports, what a cancel push looks up.
final class RunningJobs: Sendable {
    private struct Entry {
        let context: JobContext
        var task: Task<Void, Never>?
        var handlerDone = false
    }
    private struct State {
        var entries: [String: Entry] = [:]
        /// Leases of the runs the hard stop gave up on whose handlers have
        /// not returned (Swift cannot kill a task): they hold no slot, but a
        /// worker holding too many exits for its supervisor to restart it.
        var abandoned: Set<String> = []
    }
    private let state = Mutex(State())
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
    var ids: [String] { state.withLock { Array($0.entries.keys) } }

    func add(_ context: JobContext) {
        state.withLock { $0.entries[context.job.id] = Entry(context: context) }
    }

    /// Attaches the job's task; cancels it at once if a stop came first.
    func attach(_ id: String, task: Task<Void, Never>) {
        let stopNow = state.withLock { s -> Bool in
            s.entries[id]?.task = task
            return s.entries[id]?.context.stopReason != nil
        }
        if stopNow { task.cancel() }
    }

    /// The handler returned; its outcome is being written. False when this
    /// run was abandoned meanwhile: its slot was freed then, and its outcome
    /// is late (the scripts refuse it).
    func handlerFinished(_ context: JobContext) -> Bool {
        state.withLock { s in
            let id = context.job.id
            if let entry = s.entries[id], entry.context === context {
                s.entries[id]?.handlerDone = true
                return true
            }
            s.abandoned.remove(context.lease)
            return false
        }
    }

    /// Forgets the run once its outcome is written; a later run of the same
    /// job on this worker is another entry and stays.
    func remove(_ context: JobContext) {
        state.withLock { s in
            if s.entries[context.job.id]?.context === context { s.entries.removeValue(forKey: context.job.id) }
        }
    }

    /// The hard stop gives up on a run whose handler has not returned: it is
    /// no longer beaten or written for, and counts as abandoned until its
    /// handler returns. False when the handler returned first.
    func abandon(_ context: JobContext) -> Bool {
        state.withLock { s in
            let id = context.job.id
            guard let entry = s.entries[id], entry.context === context, !entry.handlerDone else { return false }
            s.entries.removeValue(forKey: id)
            s.abandoned.insert(context.lease)
            return true
        }
    }

    /// Abandoned handlers that have not returned.
    var abandoned: Int { state.withLock { $0.abandoned.count } }

    /// Asks a running job to stop: records the reason and cancels its Task.
    /// Returns false if the job is not running here (or its handler already returned).
    @discardableResult
    func stop(_ id: String, reason: StopReason) -> Bool {
        let task = state.withLock { s -> Task<Void, Never>?? in
            guard let entry = s.entries[id], !entry.handlerDone else { return nil }
            return entry.context.requestStop(reason) ? .some(entry.task) : nil
        }
        guard let task else { return false }
        task?.cancel()
        return true
    }

    /// Stops every job whose handler is still running.
    func stopAll(_ reason: StopReason) {
        for id in ids { stop(id, reason: reason) }
    }

    /// (id, lease) of every job, for the heartbeat.
    var leases: [(id: String, lease: String)] {
        state.withLock { $0.entries.values.map { ($0.context.job.id, $0.context.lease) } }
    }

    var contexts: [JobContext] { state.withLock { $0.entries.values.map(\.context) } }

    /// Runs whose handler is still running (not its outcome being written).
    var handlersRunning: [JobContext] { state.withLock { $0.entries.values.filter { !$0.handlerDone }.map(\.context) } }

    /// Jobs whose handler is still running.
    var busy: Int { state.withLock { $0.entries.values.filter { !$0.handlerDone }.count } }

    var isEmpty: Bool { state.withLock { $0.entries.isEmpty } }
}

/// Counts free slots; `acquire()` suspends (never blocks a thread) until one frees.
final class SlotGate: Sendable {
    private struct State {
        var free: Int
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state: Mutex<State>

    init(slots: Int) { state = Mutex(State(free: slots)) }

    /// Waits until more than `reserve` slots are free (or `wake()`); returns
    /// how many are.
    func waitForFree(above reserve: Int = 0) async -> Int {
        if let n = state.withLock({ $0.free > reserve ? $0.free : nil }) { return n }
        await withCheckedContinuation { c in
            let resumeNow = state.withLock { s -> Bool in
                if s.free > reserve { return true }
                s.waiter = c
                return false
            }
            if resumeNow { c.resume() }
        }
        return state.withLock { $0.free }
    }

    func take(_ n: Int) { state.withLock { $0.free -= n } }

    /// Slots free now.
    var free: Int { state.withLock { $0.free } }

    func release(_ n: Int = 1) {
        guard n > 0 else { return }
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.free += n
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
