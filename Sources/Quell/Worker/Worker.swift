import FoundationEssentials
import Glibc
import Synchronization

/// A worker process's runtime: processor, heartbeater, progress writer,
/// cancel listener, reaper and forwarder, started together and shut down
/// gracefully.
public final class Worker: Sendable {
    /// How a worker runs. Defaults come from DESIGN.md "Configuration".
    public struct Options: Sendable {
        public var queues: [String]
        public var concurrency: Int
        /// `host:pid` by default.
        public var id: String
        /// Seconds between coalesced progress writes.
        public var progressInterval: Double
        /// Delays between retries of a failing handler (attempt 1 waits about `base`).
        public var retryBackoff: Backoff
        /// Listen for pushed cancels (tests turn it off to prove the heartbeat fallback).
        public var cancelPush: Bool
        /// Run the reaper (and the janitor) in this process.
        public var runReaper: Bool
        public var log: @Sendable (String) -> Void

        public init(queues: [String] = ["default"], concurrency: Int = 4, id: String? = nil,
                    progressInterval: Double = 0.25, retryBackoff: Backoff = Backoff(base: 1, max: 300),
                    cancelPush: Bool = true, runReaper: Bool = true,
                    log: @escaping @Sendable (String) -> Void = { _ in }) {
            self.queues = queues
            self.concurrency = concurrency
            self.id = id ?? Worker.defaultID()
            self.progressInterval = progressInterval
            self.retryBackoff = retryBackoff
            self.cancelPush = cancelPush
            self.runReaper = runReaper
            self.log = log
        }
    }

    public let store: JobStore
    public let options: Options
    public var id: String { options.id }
    private let running = RunningJobs()
    private let processor: Processor
    private let writer: OutcomeWriter
    private let heartbeater: Heartbeater
    private let progressWriter: ProgressWriter
    private let reaper: Reaper?
    private let janitor: Janitor?
    private let forwarder: Forwarder
    private let listener = Mutex<CancelListener?>(nil)
    private let startedAt: Date

    public init(store: JobStore, registry: TaskRegistry, options: Options = Options()) {
        self.store = store
        self.options = options
        let log = options.log
        let running = self.running
        let startedAt = store.clock.now()
        self.startedAt = startedAt
        writer = OutcomeWriter(store: store, running: running, log: log)
        processor = Processor(store: store, registry: registry,
                              settings: .init(workerID: options.id, queues: options.queues, slots: options.concurrency,
                                              retryBackoff: options.retryBackoff),
                              running: running, writer: writer, log: log)
        let registration: @Sendable () -> WorkerRegistration = { [options] in
            WorkerRegistration(id: options.id, queues: options.queues, slots: options.concurrency,
                               busy: running.busy, startedAt: startedAt)
        }
        heartbeater = Heartbeater(store: store, running: running, registration: registration,
                                  interval: store.configuration.heartbeatInterval, log: log)
        progressWriter = ProgressWriter(store: store, running: running, interval: options.progressInterval, log: log)
        let heartbeater = self.heartbeater
        running.onLeaseExpired { heartbeater.beatNow() }
        reaper = options.runReaper
            ? Reaper(store: store, interval: store.configuration.reaperInterval, ownJobs: { running.ids },
                     beforeSweep: { await heartbeater.beatIfOverdue() }, log: log)
            : nil
        janitor = options.runReaper ? Janitor(store: store, log: log) : nil
        forwarder = Forwarder(store: store, queues: options.queues, interval: min(1, store.configuration.reaperInterval), log: log)
    }

    /// `hostname:pid`.
    public static func defaultID() -> String {
        "\(ProcessInfo.processInfo.hostName):\(getpid())"
    }

    /// Starts every component; returns at once.
    public func start() {
        heartbeater.start()
        if options.cancelPush {
            listener.withLock { $0 = CancelListener(store: store, running: running, heartbeater: heartbeater) }
        }
        progressWriter.start()
        reaper?.start()
        janitor?.start()
        forwarder.start()
        processor.start()
    }

    /// True once the cancel listener is subscribed (or pushes are off).
    public var isListening: Bool { listener.withLock { $0?.isConnected ?? true } }

    /// Jobs whose handlers are running now.
    public var busy: Int { running.busy }

    /// Graceful shutdown: stop fetching; let running jobs finish within
    /// `grace` seconds; then cancel the rest (reason shutdown) and requeue them
    /// without spending an attempt; write every outcome; deregister.
    public func shutdown(grace: Double) async {
        await processor.stopFetching()
        let end = Date().addingTimeInterval(grace)
        while running.busy > 0 && Date() < end {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if running.busy > 0 {
            options.log("shutdown: grace of \(grace)s over, requeueing \(running.busy) job(s)")
            running.stopAll(.shutdown)
        }
        // Outcomes (including requeues) are written before the heartbeat stops,
        // so the reaper never mistakes a job being written for a dead one.
        let writeEnd = Date().addingTimeInterval(10)
        while !running.isEmpty && Date() < writeEnd {
            try? await Task.sleep(for: .milliseconds(10))
        }
        listener.withLock { $0 }?.shutdown()
        await progressWriter.shutdown()
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
            try await store.redis.send(RedisCommand("ZADD", store.keys.workers, 0, id))
            _ = try await store.reap()
        } catch {
            options.log("deregister failed (the reaper will clean up): \(error)")
        }
    }
}
