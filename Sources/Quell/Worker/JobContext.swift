import FoundationEssentials
import Synchronization

/// Why a running job is being stopped by the worker.
public enum StopReason: String, Sendable {
    /// A user or operator cancelled it: confirm `cancelled`.
    case cancel
    /// It ran past its deadline: finish `timed_out`.
    case deadline
    /// The worker is shutting down: requeue it without spending an attempt.
    case shutdown
    /// A user or operator paused it: confirm `paused`, with its cursor.
    case pause
    /// Another run owns it now (reaped and requeued): write nothing.
    case lost
}

/// What a handler gets: its job, a free `checkpoint()`, and coalesced progress.
///
/// Cancellation is cooperative and mapped onto Swift's own: a remote cancel
/// sets a local flag and calls `Task.cancel()` on the job's task, so
/// `checkpoint()`, `Task.checkCancellation()` and `withTaskCancellationHandler`
/// all see it. A checkpoint costs no Redis round trip.
public final class JobContext: Sendable {
    /// The job as it was when this run started (params, attempt, key, worker).
    public let job: Job
    /// This run's lease: unique per run (`<worker>/<call>/<n>`). Every write
    /// the worker makes for the run carries it, and Redis refuses one whose
    /// lease is no longer the job's — a fencing token an application can also
    /// record with its own writes, to tell runs of one job apart.
    public let lease: String
    /// The store, for handlers that write their results to Redis
    /// (`store.redisCommand` on keys from `store.keys.app(_:)`).
    public let store: JobStore
    /// The job packed as `start` returned it: the finish hands it back (see FinishedEvent).
    let startedAs: String?

    private struct State {
        var stop: StopReason?
        /// When the stop was requested (the hard stop counts the cancel grace from it).
        var stopAt: Date?
        var deadline: Date?
        var progress = JobProgress()
        var dirty = false
        /// The checkpoint cursor (JSON): the one this run started from, then the last saved.
        var cursor: String?
        /// The cursor saved since the last progress write.
        var unsentCursor: String?
        /// The progress as it was when `cursor` was saved: what a pause keeps,
        /// so the counters never include work the cursor does not cover.
        var cursorProgress: JobProgress?
        /// Counts saved cursors; `writtenCursor` is the count Redis has confirmed.
        var savedCursor = 0
        var writtenCursor = 0
        var cursorWaiters: [(generation: Int, continuation: CheckedContinuation<Void, Never>)] = []
        /// When the last heartbeat that Redis confirmed for this run was sent.
        var leaseConfirmedAt: Date
    }
    private let state: Mutex<State>
    private let clock: any QuellClock
    private let staleAfter: Double
    private let leaseExpired: @Sendable () -> Void
    private let cursorSaved: @Sendable () -> Void

    init(job: Job, lease: String, store: JobStore, cursor: String? = nil, startedAs: String? = nil,
         leaseExpired: @escaping @Sendable () -> Void = {}, cursorSaved: @escaping @Sendable () -> Void = {}) {
        self.job = job
        self.lease = lease
        self.store = store
        self.startedAs = startedAs
        self.clock = store.clock
        self.staleAfter = store.configuration.staleAfter
        self.leaseExpired = leaseExpired
        self.cursorSaved = cursorSaved
        var initial = State(deadline: job.deadlineAt, leaseConfirmedAt: job.startedAt ?? store.clock.now())
        if let cursor {
            // Resuming: the counters as they were saved with this cursor.
            initial.cursor = cursor
            initial.progress = job.progress ?? JobProgress()
            initial.cursorProgress = initial.progress
        }
        self.state = Mutex(initial)
    }

    /// The largest cursor `saveCursor` accepts, as JSON.
    public static let maxCursorBytes = 16 * 1024

    /// The checkpoint cursor saved by an earlier run of this job (a retry, a
    /// recovery after its worker died) — or by this run — decoded as `C`;
    /// nil when there is none. A handler that finds one continues from it:
    /// the counters (`currentProgress`) are those saved with it.
    public func cursor<C: Decodable>(as type: C.Type = C.self) throws -> C? {
        guard let text = state.withLock({ $0.cursor }) else { return nil }
        do {
            return try JSONDecoder().decode(C.self, from: Data(text.utf8))
        } catch {
            throw QuellError.invalid("the saved cursor does not decode as \(C.self): \(TaskRegistry.describe(error))")
        }
    }

    /// Saves where the work has got to (a page token, the last id done), and
    /// returns once Redis has it: written with the progress, in the same Redis
    /// write as the counters, so cursor and counters never disagree (writes of
    /// many jobs still share one call). Call it after the counters of the work
    /// it covers are reported; a run that dies after it redoes nothing before
    /// it. At most `maxCursorBytes` of JSON. Returns early (without waiting)
    /// once the job is being stopped: the next `checkpoint()` throws.
    public func saveCursor<C: Encodable>(_ cursor: C) async throws {
        let text = try EnqueueRequest.canonicalJSON(cursor, what: "the cursor")
        guard text.utf8.count <= Self.maxCursorBytes else {
            throw QuellError.invalid("a cursor is at most \(Self.maxCursorBytes) bytes of JSON, this one is \(text.utf8.count)")
        }
        let generation = state.withLock { s -> Int in
            s.cursor = text
            s.unsentCursor = text
            s.cursorProgress = s.progress
            s.dirty = true
            s.savedCursor += 1
            return s.savedCursor
        }
        cursorSaved()
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.writtenCursor >= generation || s.stop != nil { return true }
                s.cursorWaiters.append((generation, c))
                return false
            }
            if now { c.resume() }
        }
    }

    /// Redis has the cursors saved up to `generation` (or the job is stopping:
    /// `generation` nil releases every waiter).
    func cursorWritten(upTo generation: Int?) {
        let ready = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            if let generation { s.writtenCursor = max(s.writtenCursor, generation) }
            let limit = generation == nil ? Int.max : s.writtenCursor
            let ready = s.cursorWaiters.filter { $0.generation <= limit }.map(\.continuation)
            s.cursorWaiters.removeAll { $0.generation <= limit }
            return ready
        }
        for c in ready { c.resume() }
    }

    /// Throws `CancellationError` if the job was cancelled or paused, is past
    /// its deadline, or the worker is shutting down — or if this run may no
    /// longer own the job: with no heartbeat confirmed for stale-after (the
    /// process was frozen, or Redis unreachable), a reaper may have handed
    /// the job to another worker, so the handler stops rather than run twice.
    /// Reads local state only: no round trip.
    public func checkpoint() throws {
        let (stop, deadline, confirmed) = state.withLock { ($0.stop, $0.deadline, $0.leaseConfirmedAt) }
        if stop != nil || Task.isCancelled { throw CancellationError() }
        let now = clock.now()
        if now.timeIntervalSince(confirmed) > staleAfter {
            if requestStop(.lost) { leaseExpired() }
            throw CancellationError()
        }
        if let deadline, now > deadline {
            requestStop(.deadline)
            throw CancellationError()
        }
    }

    /// The headers given at enqueue (e.g. W3C `traceparent`), unchanged.
    public var headers: [String: String] { job.headers }

    /// True once a stop was requested (cancel, pause, deadline, shutdown, lost).
    public var isStopping: Bool { state.withLock { $0.stop != nil } }

    /// Reports progress. Calls are coalesced: however often a handler calls
    /// this, the worker writes at most a few times per second per job.
    public func progress(stage: String? = nil, current: Int? = nil, total: Int? = nil, counters: [String: Int]? = nil) {
        state.withLock { s in
            if let stage { s.progress.stage = stage }
            if let current { s.progress.current = current }
            if let total { s.progress.total = total }
            if let counters { s.progress.counters.merge(counters) { $1 } }
            if let c = s.progress.current, let t = s.progress.total, t > 0 {
                s.progress.percent = min(100, Double(c) * 100 / Double(t))
            }
            s.dirty = true
        }
    }

    /// Adds to a named counter (`synced`, `failed`, …).
    public func increment(_ counter: String, by n: Int = 1) {
        state.withLock { s in
            s.progress.counters[counter, default: 0] += n
            s.dirty = true
        }
    }

    /// The progress as last reported.
    public var currentProgress: JobProgress { state.withLock { $0.progress } }

    // MARK: - Worker side

    var stopReason: StopReason? { state.withLock { $0.stop } }

    /// Records why the job must stop; the first reason wins. Returns true if
    /// this call set it.
    @discardableResult
    func requestStop(_ reason: StopReason) -> Bool {
        let set = state.withLock { s -> Bool in
            if s.stop != nil { return false }
            s.stop = reason
            s.stopAt = clock.now()
            return true
        }
        if set { cursorWritten(upTo: nil) }
        return set
    }

    func updateDeadline(_ deadline: Date?) {
        guard let deadline else { return }
        state.withLock { $0.deadline = deadline }
    }

    var deadline: Date? { state.withLock { $0.deadline } }

    /// Why and since when this run is being stopped, if it is.
    var stopRequest: (reason: StopReason, at: Date)? {
        state.withLock { s in s.stop.flatMap { r in s.stopAt.map { (r, $0) } } }
    }

    /// A heartbeat sent at `sentAt` was confirmed by Redis: the lease held then.
    func confirmLease(at sentAt: Date) {
        state.withLock { s in if sentAt > s.leaseConfirmedAt { s.leaseConfirmedAt = sentAt } }
    }

    /// The progress to write, with the cursor saved since the last write (and
    /// its generation), if anything changed since the last call.
    func takeDirtyProgress() -> (progress: JobProgress, cursor: String?, generation: Int)? {
        state.withLock { s in
            guard s.dirty else { return nil }
            s.dirty = false
            let cursor = s.unsentCursor
            s.unsentCursor = nil
            return (s.progress, cursor, s.savedCursor)
        }
    }

    /// Marks progress unwritten again (a write failed), with its cursor.
    func markDirty(cursor: String?) {
        state.withLock { s in
            s.dirty = true
            if s.unsentCursor == nil { s.unsentCursor = cursor }
        }
    }

    /// The latest cursor (for the outcome writer: a retry resumes from it).
    var latestCursor: String? { state.withLock { $0.cursor } }

    /// What a pause keeps: the latest cursor and the progress saved with it
    /// (the current progress when there is no cursor).
    var pausePoint: (progress: JobProgress, cursor: String?) {
        state.withLock { s in (s.cursor == nil ? s.progress : (s.cursorProgress ?? s.progress), s.cursor) }
    }
}

/// How a handler's work ended when it returned normally.
public enum JobResult: Sendable {
    /// Done: `completed`.
    case completed
    /// Done, but some items failed (counted, not fatal).
    case completedWithErrors
}

/// A job whose payload cannot be decoded: failed at once, never retried.
/// Thrown by a handler to fail its job at once, without the retries that
/// are left (a retry cannot help: the account is gone, the input is invalid).
///
///     guard let account = try await remote.account(id) else {
///         throw PermanentFailure("account \(id) no longer exists")
///     }
public struct PermanentFailure: Error, CustomStringConvertible, Sendable {
    /// The job's `error` text.
    public let message: String
    /// A failure with `message` as the job's error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

struct PayloadError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
