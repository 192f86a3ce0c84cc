import FoundationEssentials
import Synchronization

/// How a run ended, decided by the processor from the handler's result and
/// the stop reason.
enum Outcome: Sendable {
    case finish(JobStatus, error: String?)
    case confirmCancel
    /// Stopped at a checkpoint for a pause: confirm `paused` with its cursor.
    case confirmPause
    case retry(delay: Double, error: String, refund: Bool)
    /// The job is not ours any more: write nothing.
    case none
}

/// Writes outcomes to the store. Finishes are batched: a job that ends while
/// a finish call is in flight joins the next call, so 100 jobs ending at once
/// cost a few round trips; a lone job is written at once (latency first).
/// While the processor's fetch loop is active (it starts a job as soon as a
/// slot frees), the finish of a job whose slot it frees rides with that
/// start instead: one round trip for both (`takeCarried`, `carried`). While
/// the loop's call is in flight, and when it stops (it blocks for work, backs
/// off, stops), finishes are written on their own at once.
/// A write that fails because Redis is unreachable is retried with backoff —
/// an outcome is never dropped while the process lives (if it dies, the
/// reaper recovers the job).
final class OutcomeWriter: Sendable {
    private let store: JobStore
    private let running: RunningJobs
    private let log: @Sendable (String) -> Void

    private struct Pending {
        let report: FinishReport
        /// The caller waiting for the answer (`write`), or nil.
        let done: CheckedContinuation<JobSignal?, Never>?
        /// The run to forget once the finish is written (`finishInBackground`), or nil.
        let context: JobContext?
    }
    private struct State {
        var pending: [Pending] = []
        var flushing = false
        /// The fetch loop will call `takeCarried` soon: it waits for a free
        /// slot or is about to start jobs, and does not block for work.
        var carrierActive = false
        /// Taken by the fetch loop and not yet answered, per batch (the
        /// loop may have two calls in flight).
        var carried: [Int: [Pending]] = [:]
        var lastBatch = 0
    }
    private let state = Mutex(State())
    private let backoff = Backoff(base: 0.05, max: 2)

    init(store: JobStore, running: RunningJobs, log: @escaping @Sendable (String) -> Void) {
        self.store = store
        self.running = running
        self.log = log
    }

    /// Records the outcome durably, then forgets the job. Returns what the
    /// store answered to the last write (`.ok` when it landed; `.terminal` or
    /// `.lost` when it was refused, as a late outcome of an abandoned run is),
    /// nil when nothing was written.
    @discardableResult
    func write(_ outcome: Outcome, for context: JobContext) async -> JobSignal? {
        let id = context.job.id
        let lease = context.lease
        let progress = Self.reportedProgress(context)
        var answer: JobSignal?
        switch outcome {
        case .finish(let status, let error):
            answer = await finish(Self.report(status, error, context))
        case .confirmCancel:
            answer = await confirm(id: id, lease: lease, progress: progress)
        case .confirmPause:
            answer = await confirmPause(context)
        case .retry(let delay, let error, let refund):
            answer = await persistently("retry \(id)") {
                try await store.retry(id: id, lease: lease, delay: delay, error: error, progress: progress, refund: refund,
                                      cursor: context.latestCursor)
            }
            if answer == .cancel { answer = await confirm(id: id, lease: lease, progress: progress) }
            if answer == .pause { answer = await confirmPause(context) }
        case .none:
            break
        }
        running.remove(context)
        return answer
    }

    private func confirm(id: String, lease: String, progress: JobProgress?) async -> JobSignal? {
        await persistently("confirm cancel \(id)") {
            try await store.confirmCancelled(id: id, lease: lease, progress: progress)
        }
    }

    /// pausing → paused with the latest cursor and the counters saved with
    /// it; a cancel that came after the pause is confirmed instead.
    private func confirmPause(_ context: JobContext) async -> JobSignal? {
        let id = context.job.id
        let point = context.pausePoint
        let progress = point.progress == JobProgress() ? nil : point.progress
        let answer = await persistently("confirm pause \(id)") {
            try await store.confirmPaused(id: id, lease: context.lease, progress: progress, cursor: point.cursor)
        }
        if answer == .cancel {
            let current = Self.reportedProgress(context)
            return await confirm(id: id, lease: context.lease, progress: current)
        }
        return answer
    }

    /// Records a finish without waiting for it (the processor's usual case:
    /// nothing after it needs the answer). The run stays in `RunningJobs` —
    /// heartbeats and all — until the finish has landed, then is forgotten,
    /// as `write` does; the job's task ends at once, which spares a wakeup per
    /// job on the pool.
    /// The caller frees the run's slot right after (that wakes the fetch
    /// loop), so the finish may ride with the next start.
    func finishInBackground(_ status: JobStatus, error: String?, for context: JobContext) {
        enqueue(Pending(report: Self.report(status, error, context), done: nil, context: context), rides: true)
    }

    /// The fetch loop says whether it will come for finishes soon. Going
    /// inactive flushes what is pending, so nothing waits on a loop that blocks.
    func setCarrier(active: Bool) {
        let lead = state.withLock { s -> Bool in
            s.carrierActive = active
            if active || s.flushing || s.pending.isEmpty { return false }
            s.flushing = true
            return true
        }
        if lead { Task { await self.flush() } }
    }

    /// The finishes pending now, for the fetch loop to write with its start;
    /// it hands them back through `carried` with the batch number returned
    /// here. Until the loop is active again (`setCarrier`), finishes are
    /// written on their own: while its call is in flight they overlap it
    /// rather than wait a round trip for the next one.
    func takeCarried() -> (batch: Int, reports: [FinishReport]) {
        let (n, b) = state.withLock { s -> (Int, [Pending]) in
            let b = s.pending
            s.pending.removeAll(keepingCapacity: true)
            s.lastBatch += 1
            if !b.isEmpty { s.carried[s.lastBatch] = b }
            s.carrierActive = false
            return (s.lastBatch, b)
        }
        return (n, b.map(\.report))
    }

    /// The answers to the finishes `takeCarried` returned as `batch`, in
    /// order; nil when they were not written (or may not have been): they
    /// are written again on their own, persistently (a finish that had
    /// landed answers `terminal` the second time).
    func carried(_ answers: [JobSignal]?, batch: Int) {
        guard let pending = state.withLock({ $0.carried.removeValue(forKey: batch) }) else { return }
        guard let answers, answers.count == pending.count else {
            for p in pending { enqueue(p, rides: false) }
            return
        }
        complete(pending, answers)
    }

    private static func report(_ status: JobStatus, _ error: String?, _ context: JobContext) -> FinishReport {
        FinishReport(id: context.job.id, lease: context.lease, status: status, error: error, progress: reportedProgress(context),
                     startedAs: context.startedAs)
    }

    /// The run's progress to write with its outcome; nil when it reported none.
    private static func reportedProgress(_ context: JobContext) -> JobProgress? {
        context.currentProgress == JobProgress() ? nil : context.currentProgress
    }

    private func finish(_ report: FinishReport) async -> JobSignal? {
        await withCheckedContinuation { (c: CheckedContinuation<JobSignal?, Never>) in
            enqueue(Pending(report: report, done: c, context: nil), rides: false)
        }
    }

    /// Adds a finish to the next batch, starting a flush when none runs and
    /// the finish does not ride with the fetch loop's next start.
    private func enqueue(_ pending: Pending, rides: Bool) {
        let lead = state.withLock { s -> Bool in
            s.pending.append(pending)
            if s.flushing || (rides && s.carrierActive) { return false }
            s.flushing = true
            return true
        }
        if lead { Task { await self.flush() } }
    }

    /// Writes batches until nothing is pending.
    private func flush() async {
        while true {
            let batch = state.withLock { s -> [Pending] in
                let b = s.pending
                s.pending.removeAll(keepingCapacity: true)
                if b.isEmpty { s.flushing = false }
                return b
            }
            if batch.isEmpty { return }
            let answers = await persistently("finish \(batch.count) jobs") {
                try await store.finish(batch.map(\.report))
            }
            complete(batch, answers)
        }
    }

    /// Forgets the written runs and answers their waiters.
    private func complete(_ batch: [Pending], _ answers: [JobSignal]?) {
        for (i, p) in batch.enumerated() {
            if let context = p.context { running.remove(context) }
            p.done?.resume(returning: answers.flatMap { i < $0.count ? $0[i] : nil })
        }
    }

    /// Runs a write until it succeeds or fails for a reason retrying cannot fix.
    private func persistently<T: Sendable>(_ what: String, _ body: () async throws -> T) async -> T? {
        var attempt = 0
        while true {
            do {
                return try await body()
            } catch {
                if case .unavailable? = error as? QuellError {
                    if attempt == 0 { log("\(what): \(error); retrying") }
                    try? await Task.sleep(for: .seconds(backoff.delay(attempt: attempt)))
                    attempt += 1
                    continue
                }
                log("\(what) failed: \(error)")
                return nil
            }
        }
    }
}
