import FoundationEssentials
import Glibc
import Synchronization

/// Runs jobs: processor, heartbeater, progress writer, cancel listener, hard
/// stop, reaper, janitor and forwarder, started together and shut down gracefully.
///
/// In a host's lifecycle:
///
///     let worker = Worker(store: store, registry: registry)
///     let running = Task { await worker.run() }      // until cancelled
///     …
///     running.cancel()                               // graceful shutdown
///     await running.value
///
/// or `await worker.run()` as the body of `main`, with
/// `shutdownOnTerminationSignals(worker)` turning SIGTERM/SIGINT into a
/// graceful shutdown.
public final class Worker: Sendable {
    /// How a worker runs. Defaults come from DESIGN.md "Configuration".
    public struct Options: Sendable {
        /// The queues to take jobs from, highest priority first.
        public var queues: [String]
        /// Jobs run at once (slots).
        public var concurrency: Int
        /// Unique per `Worker`: `host:pid:<random>` by default. Two workers in one
        /// process never share a registration, processing list or leases.
        public var id: String
        /// Seconds between coalesced progress writes.
        public var progressInterval: Double
        /// Delays between retries of a failing handler (attempt 1 waits about `base`);
        /// a task's `TaskDefaults.retryBackoff` wins over this.
        public var retryBackoff: Backoff
        /// Listen for pushed cancels (tests turn it off to prove the heartbeat fallback).
        public var cancelPush: Bool
        /// Run the reaper (and the janitor) in this process.
        public var runReaper: Bool
        /// Where the worker logs (job start and end at info, failures at warning).
        public var logger: QuellLogger
        /// Where the worker reports metrics (see `QuellMetrics`).
        public var metrics: any QuellMetrics
        /// Handlers abandoned by the hard stop (they did not stop within the
        /// store's `cancelGrace`) this worker may hold; past it, the worker
        /// stops taking jobs and `run()` returns with
        /// `stoppedForAbandonedTasks` set, for the process to exit and its
        /// supervisor to restart it (Swift cannot kill a task).
        public var abandonedTaskLimit: Int
        /// Start short jobs ahead of a free slot (on by default; at most
        /// 2 × `concurrency` of them, and only up to 16 slots). After
        /// `concurrency` handlers in a row returned within 2 ms, a start may
        /// take up to twice that many jobs more than the free slots; each waits
        /// for a slot, `running` in Redis (leased, beaten, cancellable) but
        /// with its handler not yet called. A cancel or pause of such a job
        /// is confirmed at once, and one that waits 50 ms for a slot (the
        /// slots went to long jobs) goes back to the front of its queue with
        /// its attempt refunded. Like Celery's prefetch, bounded to short
        /// jobs: a slot refills without a round trip. Off: a start takes only
        /// as many jobs as there are free slots.
        public var startsAhead = true
        /// How long a job started ahead may wait for a slot (tests shorten or lengthen it).
        var aheadWaitLimit: Duration = .milliseconds(50)

        /// Options; the defaults are DESIGN.md's.
        public init(queues: [String] = ["default"], concurrency: Int = 4, id: String? = nil,
                    progressInterval: Double = 0.25, retryBackoff: Backoff = Backoff(base: 1, max: 300),
                    cancelPush: Bool = true, runReaper: Bool = true,
                    logger: QuellLogger = .none, metrics: any QuellMetrics = NoMetrics(), abandonedTaskLimit: Int = 4) {
            self.queues = queues
            self.concurrency = concurrency
            self.id = id ?? Worker.uniqueID()
            self.progressInterval = progressInterval
            self.retryBackoff = retryBackoff
            self.cancelPush = cancelPush
            self.runReaper = runReaper
            self.logger = logger
            self.metrics = metrics
            self.abandonedTaskLimit = abandonedTaskLimit
        }

        /// Options with the queues, slots and abandoned-handler limit of
        /// `settings` (`QUELL_QUEUES`, `QUELL_CONCURRENCY`,
        /// `QUELL_ABANDONED_TASK_LIMIT`, `QUELL_START_AHEAD`), the rest as given.
        public init(settings: QuellSettings, id: String? = nil, logger: QuellLogger = .none,
                    metrics: any QuellMetrics = NoMetrics()) {
            self.init(queues: settings.worker.queues, concurrency: settings.worker.concurrency, id: id,
                      logger: logger, metrics: metrics, abandonedTaskLimit: settings.worker.abandonedTaskLimit)
            startsAhead = settings.worker.startsAhead
        }
    }

    /// The store it takes jobs from and reports to.
    public let store: JobStore
    /// How it runs.
    public let options: Options
    /// Its id (`options.id`): in its registration, leases and the jobs it runs.
    public var id: String { options.id }
    private let running = RunningJobs()
    private let processor: Processor
    private let writer: OutcomeWriter
    private let heartbeater: Heartbeater
    private let progressWriter: ProgressWriter
    private let reaper: Reaper?
    private let janitor: Janitor?
    private let forwarder: Forwarder
    private let hardStop: HardStop
    private let listener = Mutex<CancelListener?>(nil)
    private let overLimit = Flag()
    private let startedAt: Date
    private let stopRequest = ShutdownRequest()

    /// A worker running `registry`'s handlers on `store`'s jobs; `run()` (or
    /// `start()`) starts it.
    public init(store: JobStore, registry: TaskRegistry, options: Options = Options()) {
        self.store = store
        self.options = options
        let logger = options.logger
        let log: @Sendable (String) -> Void = { logger.log(.warning, $0, ["worker": options.id]) }
        let running = self.running
        let startedAt = store.clock.now()
        self.startedAt = startedAt
        writer = OutcomeWriter(store: store, running: running, log: log)
        processor = Processor(store: store, registry: registry,
                              settings: .init(workerID: options.id, queues: options.queues, slots: options.concurrency,
                                              retryBackoff: options.retryBackoff, startsAhead: options.startsAhead,
                                              aheadWaitLimit: options.aheadWaitLimit),
                              running: running, writer: writer, logger: logger, metrics: options.metrics, log: log)
        let registration: @Sendable () -> WorkerRegistration = { [options, processor] in
            WorkerRegistration(id: options.id, queues: options.queues, slots: options.concurrency,
                               busy: processor.handlersRunning, startedAt: startedAt)
        }
        heartbeater = Heartbeater(store: store, running: running, registration: registration,
                                  interval: store.configuration.heartbeatInterval, log: log)
        progressWriter = ProgressWriter(store: store, running: running, interval: options.progressInterval, log: log)
        let heartbeater = self.heartbeater
        running.onLeaseExpired { heartbeater.beatNow() }
        let progressWriter = self.progressWriter
        running.onCursorSaved { progressWriter.flushNow() }
        let reaperLog: @Sendable (String) -> Void = { logger.log(.notice, $0, ["worker": options.id]) }
        reaper = options.runReaper
            ? Reaper(store: store, interval: store.configuration.reaperInterval, ownJobs: { running.ids },
                     beforeSweep: { await heartbeater.beatIfOverdue() }, log: reaperLog)
            : nil
        janitor = options.runReaper ? Janitor(store: store, log: reaperLog) : nil
        let processor = self.processor
        let overLimit = self.overLimit
        let stopRequest = self.stopRequest
        hardStop = HardStop(store: store, running: running, grace: store.configuration.cancelGrace, limit: options.abandonedTaskLimit,
                            freeSlot: { processor.releaseSlot($0) },
                            overLimit: { held in
                                logger.log(.error, "holding \(held) abandoned handlers, more than QUELL_ABANDONED_TASK_LIMIT "
                                           + "(\(options.abandonedTaskLimit)): taking no more jobs and stopping, to be restarted",
                                           ["worker": options.id])
                                overLimit.set()
                                // Stop fetching now, also for a host that drives start()/shutdown() itself.
                                Task { await processor.stopFetching() }
                                stopRequest.fire()
                            },
                            logger: logger, workerID: options.id)
        forwarder = Forwarder(store: store, queues: options.queues, interval: min(1, store.configuration.reaperInterval), log: log)
    }

    /// `hostname:pid:<6 random hex digits>`: unique per `Worker` instance.
    public static func uniqueID() -> String {
        let suffix = String(UInt32.random(in: 0...0xFF_FFFF), radix: 16)
        return "\(hostName()):\(getpid()):\(String(repeating: "0", count: 6 - suffix.count))\(suffix)"
    }

    /// The machine's name from `gethostname(2)`: no name resolution (Foundation's
    /// `ProcessInfo.hostName` resolves it, which blocked for seconds here).
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }

    /// Starts every component and runs until the calling task is cancelled
    /// or `beginGracefulShutdown()` is called; then shuts down gracefully
    /// within the store's `shutdownGrace` and returns.
    public func run() async {
        start()
        await withTaskCancellationHandler {
            await stopRequest.wait()
        } onCancel: {
            stopRequest.fire()
        }
        options.logger.log(.info, "worker shutting down", ["worker": id, "grace_seconds": String(store.configuration.shutdownGrace)])
        await shutdown(grace: store.configuration.shutdownGrace)
        options.logger.log(.info, "worker stopped", ["worker": id])
    }

    /// Makes `run()` stop fetching and shut down gracefully. Safe to call from
    /// anywhere, any number of times.
    public func beginGracefulShutdown() { stopRequest.fire() }

    /// Starts every component; returns at once (`run()` is the usual entry).
    public func start() {
        heartbeater.start()
        if options.cancelPush {
            listener.withLock { $0 = CancelListener(store: store, running: running, heartbeater: heartbeater) }
        }
        progressWriter.start()
        hardStop.start()
        reaper?.start()
        janitor?.start()
        forwarder.start()
        processor.start()
        options.logger.log(.info, "worker started", [
            "worker": id, "queues": options.queues.joined(separator: ","), "concurrency": String(options.concurrency)])
    }

    /// True once the cancel listener is subscribed (or pushes are off).
    public var isListening: Bool { listener.withLock { $0?.isConnected ?? true } }

    /// Jobs whose handlers are running now (not those started ahead and
    /// waiting for a slot).
    public var busy: Int { processor.handlersRunning }

    /// Ids of the jobs this worker holds: running, or ended with the outcome
    /// not yet written (it keeps them, heartbeats and all, until it lands).
    var heldJobIDs: [String] { running.ids }

    /// Handlers abandoned by the hard stop that have not returned.
    public var abandonedTasks: Int { running.abandoned }

    /// True once the worker held more abandoned handlers than
    /// `options.abandonedTaskLimit` and stopped taking jobs: `run()` returns
    /// after a graceful shutdown, and the process should exit (non-zero) for
    /// its supervisor to restart it. `quell worker` exits with code 75.
    public var stoppedForAbandonedTasks: Bool { overLimit.isSet }

    /// Sleeps even in a cancelled task. `run()` shuts down gracefully when its
    /// task is cancelled, and there `Task.sleep` would throw at once: the
    /// waits for running jobs and unwritten outcomes would spin a core for
    /// up to the grace period (and under Swift Testing, which records a
    /// backtrace for every thrown error, stall the whole test process). A
    /// new unstructured task does not inherit the cancellation.
    static func pause(milliseconds: Int) async {
        await Task { try? await Task.sleep(for: .milliseconds(milliseconds)) }.value
    }

    /// Graceful shutdown: stop fetching; let running jobs finish within
    /// `grace` seconds; then cancel the rest (reason shutdown) and requeue them
    /// without spending an attempt; write every outcome; deregister.
    public func shutdown(grace: Double) async {
        await processor.stopFetching()
        let end = Date().addingTimeInterval(grace)
        while running.busy > 0 && Date() < end {
            await Self.pause(milliseconds: 20)
        }
        if running.busy > 0 {
            options.logger.log(.notice, "shutdown: grace of \(grace)s over, requeueing \(running.busy) job(s)", ["worker": id])
            running.stopAll(.shutdown)
        }
        // Outcomes (including requeues) are written before the heartbeat stops,
        // so the reaper never mistakes a job being written for a dead one.
        let writeEnd = Date().addingTimeInterval(10)
        while !running.isEmpty && Date() < writeEnd {
            await Self.pause(milliseconds: 10)
        }
        if !running.isEmpty {
            options.logger.log(.warning, "shutdown: \(running.ids.count) outcome(s) still unwritten after 10 s: \(running.ids.sorted())",
                               ["worker": id])
        }
        listener.withLock { $0 }?.shutdown()
        await progressWriter.shutdown()
        await hardStop.shutdown()
        await heartbeater.shutdown()
        await reaper?.shutdown()
        await janitor?.shutdown()
        await forwarder.shutdown()
        await deregister()
    }

    /// Removes this worker's registration: it marks itself expired and runs
    /// one reaper sweep, whose atomic script returns anything it claimed but
    /// never started to the front of its queue (the same path as a dead worker).
    private func deregister() async {
        do {
            try await store.deregister(worker: id)
        } catch {
            options.logger.log(.warning, "deregister failed (the reaper will clean up): \(error)", ["worker": id])
        }
    }
}

/// A flag set once.
private final class Flag: Sendable {
    private let state = Mutex(false)
    func set() { state.withLock { $0 = true } }
    var isSet: Bool { state.withLock { $0 } }
}

/// The one-shot request that ends `run()`.
private final class ShutdownRequest: Sendable {
    private let state = Mutex<(fired: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func fire() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.fired = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }

    func wait() async {
        await withCheckedContinuation { c in
            let now = state.withLock { s -> Bool in
                if s.fired { return true }
                s.waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }
}
