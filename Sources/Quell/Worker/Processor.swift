import FoundationEssentials
import Synchronization

/// Fetches, runs and acknowledges jobs with N slots.
///
/// Fetch: one `start` call takes as many queued jobs as there are free slots.
/// When the queues are empty it blocks (`BLMOVE` into this worker's processing
/// list, on a connection of its own) instead of polling, so an idle worker is
/// idle and starts a new job within milliseconds; the claimed id sits in the
/// processing list until `start` takes it, so a kill at any instant loses
/// nothing (the reaper returns a dead worker's claims).
///
/// Run: each job in its own Swift `Task`; the slot frees when the handler
/// returns, while its outcome is written (batched) in the background.
final class Processor: Sendable {
    struct Settings: Sendable {
        var workerID: String
        var queues: [String]
        var slots: Int
        var retryBackoff: Backoff
        /// Start jobs ahead of a free slot while runs are short (`aheadAllowance`).
        var startsAhead = true
        /// A job started ahead that has waited this long for a slot is given back.
        var aheadWaitLimit: Duration = .milliseconds(50)
    }

    private let store: JobStore
    private let registry: TaskRegistry
    private let settings: Settings
    private let running: RunningJobs
    private let writer: OutcomeWriter
    /// Jobs started whose handlers have not returned: up to the slots plus
    /// `ahead` (a start call reserves its share first).
    private let gate: SlotGate
    /// Handlers running at once: at most the slots.
    private let turns: HandlerTurns
    /// Jobs this worker may start ahead of a free slot while runs are short.
    private let ahead: Int
    /// The gate's size: slots plus `ahead`.
    private let capacity: Int
    private let blocking: RedisClient
    private let logger: QuellLogger
    private let metrics: any QuellMetrics
    /// False for `NoMetrics`: the per-job reports (and their dimension arrays) are skipped.
    private let reportsMetrics: Bool
    private let log: @Sendable (String) -> Void

    private struct State {
        var loop: Task<Void, Never>?
        var watch: Task<Void, Never>?
        var stopped = false
        var startCalls = 0
        /// Handlers in a row that returned within `shortRun`.
        var shortRuns = 0
    }
    private let state = Mutex(State())

    init(store: JobStore, registry: TaskRegistry, settings: Settings, running: RunningJobs, writer: OutcomeWriter,
         logger: QuellLogger, metrics: any QuellMetrics, log: @escaping @Sendable (String) -> Void) {
        self.store = store
        self.registry = registry
        self.settings = settings
        self.running = running
        self.writer = writer
        self.ahead = settings.startsAhead ? Self.aheadAllowance(slots: settings.slots) : 0
        self.capacity = settings.slots + ahead
        self.gate = SlotGate(slots: capacity)
        self.turns = HandlerTurns(slots: settings.slots)
        self.logger = logger
        self.metrics = metrics
        self.reportsMetrics = !(metrics is NoMetrics)
        self.log = log
        // Blocks up to 1 s per claim: the command timeout must be longer.
        self.blocking = store.blockingClient(name: "quell-fetch", commandTimeout: 10)
    }

    /// Up to this many slots, finishes ride with the start that fills their
    /// slots and the fetch loop yields once before a start so the slots freed
    /// together start together: at few slots a round trip costs Redis more
    /// than the calls in it (`bench/worker-ab`, against the build before: c4,
    /// c8 and c16 up 5–100 % in jobs/s). With more, a start at the first free
    /// slot already carries many jobs and finishes batch on their own, and
    /// starting at once keeps Redis and the worker working side by side: at
    /// c64 the yield cost 1–20 % and riding alone gained nothing.
    static let ridingSlots = 16

    private var isStopped: Bool { state.withLock { $0.stopped } }

    func start() {
        let task = Task { [self] in await fetchLoop() }
        let watch = ahead > 0 ? Task { [self] in await watchAhead() } : nil
        state.withLock {
            $0.loop = task
            $0.watch = watch
        }
    }

    /// Stops fetching (interrupting a blocked fetch); running jobs go on.
    func stopFetching() async {
        let (loop, watch) = state.withLock { s -> (Task<Void, Never>?, Task<Void, Never>?) in
            s.stopped = true
            return (s.loop, s.watch)
        }
        blocking.close()
        gate.wake()
        await loop?.value
        // Jobs started ahead have not run: they go back to their queues now
        // rather than run during the shutdown grace.
        turns.giveBack(waitingSince: nil)
        watch?.cancel()  // it may sleep towards a wait that just ended
        await watch?.value
    }

    /// Start calls in flight at once. Riding (few slots), two: while Redis
    /// runs one call (the finishes of some slots, the start that refills
    /// them) the worker runs the jobs the other started, where with one the
    /// worker and Redis took turns. With many slots one: a start at the first
    /// free slot already keeps both busy.
    static func callsInFlight(slots: Int) -> Int {
        slots <= ridingSlots ? 2 : 1
    }

    /// Jobs started ahead of a free slot, at most: three times the slots while
    /// riding (few slots), none above. A slot then refills from a job already
    /// started instead of waiting a round trip for the start that fills it —
    /// with 8 slots and short jobs the slots stood empty for that round trip
    /// about half the time (`bench/worker-ab` c8: enqueue-then-drain
    /// 12 931–18 133 → 17 375–22 798 jobs/s, Redis µs per job 43–56 → 34–43,
    /// the start calls carrying twice the jobs; twice the slots against once:
    /// 23 218–29 030 → 24 351–33 761 jobs/s, round trips per job 0.13 →
    /// 0.09; three times against twice, through the realistic path
    /// (`bench/peers/run --only throughput --quell-b`, three A/Bs): c8
    /// median 26 180 → 29 399, 25 248 → 27 465, 31 586 → 34 302 jobs/s, c4
    /// 2.87× → 3.67× Sidekiq's; four times against twice was not clearly
    /// better in two A/Bs). With many slots a start at the first free
    /// slot already keeps Redis and the worker busy.
    ///
    /// Only while runs are short (`shortRun`): a job started ahead is
    /// `running` in Redis before its handler runs, which is harmless for a
    /// wait of a millisecond and wrong for a wait behind long jobs. So the
    /// allowance is used only after `slots` handlers in a row returned within
    /// `shortRun`, and a job that still waits `aheadWaitLimit` for a slot is
    /// given back to the front of its queue, its attempt refunded (`watchAhead`).
    static func aheadAllowance(slots: Int) -> Int {
        slots <= ridingSlots ? 3 * slots : 0
    }

    /// How long a start waits after one that found fewer jobs than it had
    /// slots for. Jobs arriving one by one to a worker that keeps up were
    /// started one per call and finished one per call, each call paying the
    /// script's fixed cost (arguments, counts, the event entry, the reply);
    /// after a short start the next gathers what arrives within this time.
    /// An idle worker is not delayed: it blocks for work (`waitForWork`) and
    /// starts what woke it at once; only the start after that lingers.
    static let startLinger: Duration = .milliseconds(2)

    /// A run this short counts towards starting ahead (a few round trips:
    /// for longer runs the round trip that refills a slot costs little).
    static let shortRun: Duration = .milliseconds(2)

    /// Gate slots to keep unused now: all of `ahead` unless runs are short.
    private var aheadReserve: Int {
        guard ahead > 0 else { return 0 }
        return state.withLock { $0.shortRuns >= settings.slots } ? 0 : ahead
    }

    private func ranHandler(for duration: Duration) {
        guard ahead > 0 else { return }
        state.withLock { s in s.shortRuns = duration < Self.shortRun ? min(s.shortRuns + 1, settings.slots) : 0 }
    }

    /// Gives back the jobs started ahead that waited `aheadWaitLimit` for a
    /// slot: the slots are taken by longer runs, so starting ahead stops
    /// until `slots` short runs in a row again.
    private func watchAhead() async {
        let limit = settings.aheadWaitLimit
        while let oldest = await turns.oldestWaiter() {
            let due = oldest.advanced(by: limit)
            if due > .now { try? await Task.sleep(until: due, clock: .continuous) }
            let given = turns.giveBack(waitingSince: ContinuousClock.now - limit)
            if given > 0 { state.withLock { $0.shortRuns = 0 } }
        }
    }

    /// How the start calls came back: the fetch loop reads it between calls.
    private struct Answers {
        /// The number of the latest call answered, and whether that call
        /// found the queues empty (nothing started, nothing skipped).
        var latest = 0
        var empty = false
        /// That call took fewer jobs than it had slots for: the queues are
        /// drained for now, and the next start lingers (`startLinger`).
        var short = false
        /// Calls failed in a row (back off before the next).
        var failures = 0
    }
    private let answers = Mutex(Answers())

    private func fetchLoop() async {
        let rides = settings.slots <= Self.ridingSlots
        let depth = Self.callsInFlight(slots: settings.slots)
        await withTaskGroup(of: Void.self) { calls in
            var inFlight = 0
            // After the queues were found empty, one call at a time until one
            // finds work: an idle worker's wakeups cost one start, not two.
            var probing = false
            while !isStopped {
                let (empty, failures) = answers.withLock { ($0.empty, $0.failures) }
                if empty || failures > 0 {
                    // Let the calls in flight land first: they may have found work.
                    while inFlight > 0, await calls.next() != nil { inFlight -= 1 }
                    let (empty, failures) = answers.withLock { ($0.empty, $0.failures) }
                    if failures > 0 {
                        try? await Task.sleep(for: .seconds(settings.retryBackoff.delay(attempt: min(failures - 1, 6)) / 10))
                    } else if empty {
                        await waitForWork()
                        probing = true
                    }
                    answers.withLock { $0.empty = false }
                    if isStopped { break }
                }
                if rides { writer.setCarrier(active: true) }
                if answers.withLock({ $0.short }) {
                    // The last start drained the queues: jobs arrive one by
                    // one. Let them (and, riding, the finishes of the runs
                    // they replace) gather so the next call carries several
                    // instead of one each.
                    try? await Task.sleep(for: Self.startLinger)
                    if isStopped { break }
                }
                var reserve = aheadReserve
                var free = await gate.waitForFree(above: reserve) - reserve
                if isStopped { break }
                if rides && free + reserve < capacity {
                    // Let handlers that have just returned free their slots too
                    // (they are queued on the pool behind this loop): one start
                    // for all of them instead of one per slot.
                    await Task.yield()
                    reserve = aheadReserve
                    free = gate.free - reserve
                }
                // Runs turned long since the wait began: wait for more slots.
                if free <= 0 { continue }
                let call = state.withLock { s -> Int in
                    s.startCalls += 1
                    return s.startCalls
                }
                // The slots are this call's until it answers; the ones it
                // does not fill are given back then.
                gate.take(free)
                // The finishes of the runs that freed these slots go in the
                // same round trip as the start that fills them (taking them
                // also lets later finishes go on their own until the loop
                // waits for a slot again).
                let carried = rides ? writer.takeCarried() : (batch: 0, reports: [])
                calls.addTask { await self.fill(free, call: call, carrying: carried) }
                inFlight += 1
                if inFlight >= (probing ? 1 : depth), await calls.next() != nil {
                    inFlight -= 1
                    if probing { probing = answers.withLock { $0.empty } }
                }
            }
        }
        writer.setCarrier(active: false)
    }

    /// One start call for `count` reserved slots: launches what it started,
    /// gives back the slots it did not fill, and records how it went.
    private func fill(_ count: Int, call: Int, carrying carried: (batch: Int, reports: [FinishReport])) async {
        do {
            let r: (finished: [JobSignal]?, started: [StartedJob], skipped: [(id: String, reason: String)])
            do {
                r = try await store.finishThenStart(carried.reports, worker: settings.workerID,
                                                    leasePrefix: "\(settings.workerID)/\(call)/", queues: settings.queues, count: count)
            } catch {
                writer.carried(nil, batch: carried.batch)
                throw error
            }
            writer.carried(r.finished, batch: carried.batch)
            for job in r.started { launch(job) }
            gate.release(count - r.started.count)
            for s in r.skipped where s.reason != "cancelled" {
                log("skipped \(s.id): \(s.reason)")
            }
            answers.withLock { a in
                a.failures = 0
                if call > a.latest {
                    a.latest = call
                    a.empty = r.started.isEmpty && r.skipped.isEmpty
                    a.short = !a.empty && r.started.count + r.skipped.count < count
                }
            }
        } catch {
            log("fetch failed: \(error)")
            gate.release(count)
            answers.withLock { $0.failures += 1 }
        }
    }

    /// Blocks until a job is pushed to one of the queues (claiming it into the
    /// processing list), or about a second passes.
    private func waitForWork() async {
        let each = settings.queues.count == 1 ? 1.0 : 0.2
        for queue in settings.queues where !isStopped {
            do {
                if try await store.claim(worker: settings.workerID, queue: queue, block: each, on: blocking) { return }
            } catch {
                if isStopped { return }
                log("blocking fetch failed: \(error)")
                try? await Task.sleep(for: .milliseconds(200))
                return
            }
        }
    }

    private func launch(_ started: StartedJob) {
        let running = self.running
        let context = JobContext(job: started.job, lease: started.lease, store: store, cursor: started.cursor, startedAs: started.packed,
                                 leaseExpired: { running.leaseExpired() }, cursorSaved: { running.cursorSaved() })
        running.add(context)
        let job = started.job
        let logsJobs = logger.isEnabled(.info)
        var metadata: [String: String] = [:]
        if logsJobs {
            metadata = QuellLogger.metadata(job, worker: settings.workerID)
            metadata["queue"] = job.queue
            logger.log(.info, "job started", metadata)
        }
        if reportsMetrics {
            metrics.increment(counter: "quell_worker_jobs_started_total", by: 1, dimensions: [("type", job.type), ("queue", job.queue)])
            metrics.record(gauge: "quell_worker_busy_slots", value: Double(turns.running), dimensions: [])
        }
        let turns = self.turns
        let task = Task { [self] in
            let wait = await turns.acquire(lease: context.lease)
            let began = ContinuousClock.now
            let outcome: Outcome
            if wait == .turn, context.stopReason == nil {
                outcome = await execute(context)
                ranHandler(for: began.duration(to: .now))
            } else if let reason = context.stopReason {
                // Stopped before its turn came: the handler never ran.
                outcome = Self.outcome(stoppedBy: reason, job: job, entry: nil, backoff: settings.retryBackoff, message: "")
            } else {
                outcome = .retry(delay: 0, error: "started ahead of a free slot and given back: no slot freed within "
                                 + "\(Self.seconds(settings.aheadWaitLimit))s", refund: true)
            }
            turns.release(lease: context.lease)
            // An abandoned run's slot was freed by the hard stop already. A
            // finish is handed to the writer before its slot is freed, so the
            // start that fills the slot carries it (see OutcomeWriter).
            let owned = running.handlerFinished(context)
            if owned {
                if case .finish(let status, let error) = outcome { writer.finishInBackground(status, error: error, for: context) }
                gate.release()
            }
            let seconds = Self.seconds(began.duration(to: .now))
            let name = Self.name(outcome)
            let level: LogLevel = name == "failed" ? .warning : .info
            if logger.isEnabled(level) {
                var end = logsJobs ? metadata : QuellLogger.metadata(job, worker: settings.workerID)
                end["outcome"] = name
                end["duration_seconds"] = String(Double(Int(seconds * 1000)) / 1000)
                if case .finish(_, let error?) = outcome { end["error"] = error }
                if case .retry(let delay, let error, _) = outcome {
                    end["error"] = error
                    end["retry_in_seconds"] = String(Double(Int(delay * 1000)) / 1000)
                }
                logger.log(level, "job finished", end)
            }
            if reportsMetrics {
                metrics.increment(counter: "quell_worker_jobs_finished_total", by: 1, dimensions: [("type", job.type), ("outcome", name)])
                metrics.record(timer: "quell_worker_job_duration_seconds", seconds: seconds, dimensions: [("type", job.type), ("outcome", name)])
                metrics.record(gauge: "quell_worker_busy_slots", value: Double(turns.running), dimensions: [])
            }
            if owned, case .finish = outcome { return }
            let answer = await writer.write(outcome, for: context)
            if !owned {
                // The hard stop closed the job without this handler: what it
                // reports now must have been refused (by the job's state and lease).
                let refused = answer == nil || answer == .terminal || answer == .lost
                logger.log(refused ? .notice : .error, refused
                           ? "abandoned handler returned after all: its late outcome was refused"
                           : "abandoned handler returned after all and its late outcome was ACCEPTED (a bug)",
                           QuellLogger.metadata(job, worker: settings.workerID).merging(["outcome": name]) { $1 })
            }
        }
        running.attach(started.job.id, task: task)
    }

    /// Handlers running now (jobs started ahead wait for a slot and do not count).
    var handlersRunning: Int { turns.running }

    /// Frees the slot of a run the hard stop abandoned (its handler still runs,
    /// but holds no slot).
    func releaseSlot(_ context: JobContext) {
        turns.release(lease: context.lease)
        gate.release()
    }

    /// How an outcome is named in logs and metrics.
    static func name(_ outcome: Outcome) -> String {
        switch outcome {
        case .finish(let status, _): return status.rawValue
        case .confirmCancel: return "cancelled"
        case .confirmPause: return "paused"
        case .retry(_, _, let refund): return refund ? "requeued" : "retry"
        case .none: return "lost"
        }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// Runs the handler and decides the outcome from its result and why it stopped.
    private func execute(_ context: JobContext) async -> Outcome {
        let job = context.job
        guard let entry = registry.entry(for: job.type) else {
            return .finish(.failed, error: "no handler registered for task type '\(job.type)'")
        }
        do {
            let result = try await entry.run(job.params ?? "{}", context)
            if context.stopReason == .lost { return .none }
            // Returned normally: that is the truth about the work, even if a
            // cancel arrived that the handler never observed.
            return .finish(result == .completed ? .completed : .completedWithErrors, error: nil)
        } catch let error as PayloadError {
            return .finish(.failed, error: error.message)
        } catch let error as PermanentFailure {
            if context.stopReason == .lost { return .none }
            return .finish(.failed, error: error.message)
        } catch {
            let message = error is CancellationError ? "cancelled by the handler itself" : "\(error)"
            return Self.outcome(stoppedBy: context.stopReason, job: job, entry: entry, backoff: settings.retryBackoff, message: message)
        }
    }

    /// The outcome of a run that ended by an error or a stop request.
    static func outcome(stoppedBy reason: StopReason?, job: Job, entry: TaskRegistry.Entry?, backoff: Backoff, message: String) -> Outcome {
        switch reason {
        case .cancel: return .confirmCancel
        case .pause: return .confirmPause
        case .deadline: return .finish(.timedOut, error: "deadline exceeded (\(Int(job.expectedDurationSeconds ?? 0))s allowed)")
        case .shutdown: return .retry(delay: 0, error: "interrupted by worker shutdown", refund: true)
        case .lost: return .none
        case nil:
            if job.attempt < job.maxAttempts {
                let backoff = entry?.retryBackoff ?? backoff
                return .retry(delay: backoff.delay(attempt: job.attempt - 1), error: message, refund: false)
            }
            return .finish(.failed, error: message)
        }
    }
}
