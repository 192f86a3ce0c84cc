import FoundationEssentials
import Quell
import QuellDemo

/// `quell worker`: runs the demo tasks (and any registered ones) from the
/// given queues until SIGTERM/SIGINT, then shuts down gracefully. A worker
/// holding more abandoned handlers than QUELL_ABANDONED_TASK_LIMIT (handlers
/// that ignored a cancel past the cancel grace) stops taking jobs, shuts down
/// and exits with code 75 (EX_TEMPFAIL), for its supervisor to restart it.
enum WorkerCommand {
    static func run(_ o: WorkerOptions, environment: [String: String]) async -> Int32 {
        var config: QuellConfiguration
        var logLevel = LogLevel.info
        var abandonedLimit = 4
        var startsAhead = true
        do {
            let settings = try o.settings()
            config = settings.store
            logLevel = settings.worker.logLevel
            abandonedLimit = settings.worker.abandonedTaskLimit
            startsAhead = settings.worker.startsAhead
            for q in o.queues { try QuellConfiguration.validateName(q, what: "queue") }
        } catch let error as UsageError {
            printError(error.description)
            return 2
        } catch {
            printError("quell worker: \(error)")
            return 2
        }
        if o.concurrency < 1 || o.concurrency > 10_000 {
            printError("quell worker: --concurrency must be from 1 to 10000")
            return 2
        }
        let signals = TerminationSignals(command: "quell worker")
        defer { signals.cancel() }
        let store = JobStore(configuration: config, clientName: "quell-worker")
        let registry = TaskRegistry()
        DemoTasks.register(in: registry)
        let log: @Sendable (String) -> Void = { printError("[\(Job.rfc3339(Date()))] \($0)") }
        // QUELL_CANCEL_PUSH=0 turns the pub/sub cancel listener off: a test
        // hook proving that cancels still land through the heartbeat.
        // QUELL_RETRY_BASE_SECONDS: the first retry waits about this long (doubling after).
        let retryBase = environment["QUELL_RETRY_BASE_SECONDS"].flatMap(Double.init).flatMap { $0 > 0 ? $0 : nil } ?? 1
        var options = Worker.Options(
            queues: o.queues, concurrency: o.concurrency, retryBackoff: Backoff(base: retryBase, max: 300),
            cancelPush: environment["QUELL_CANCEL_PUSH"] != "0", logger: .standardError(minimum: logLevel),
            abandonedTaskLimit: abandonedLimit)
        options.startsAhead = startsAhead
        let worker = Worker(store: store, registry: registry, options: options)
        Task {
            let sig = await signals.wait()
            log("signal \(sig): shutting down (grace \(o.shutdownGraceSeconds)s; interrupt again to exit now)")
            worker.beginGracefulShutdown()
        }
        log("quell worker \(worker.id) started: redis \(config.redisURL), prefix \(config.prefix), queues \(o.queues.joined(separator: ",")), "
            + "concurrency \(o.concurrency), cancel grace \(JobStore.formatSeconds(config.cancelGrace))s, tasks \(registry.types.joined(separator: " "))")
        // run() shuts down within config.shutdownGrace (the --grace flag) once asked to.
        await worker.run()
        let stats = store.redis.statistics
        log("redis client: \(stats.roundTrips) round trips, \(stats.commands) commands, \(stats.connects) connects")
        store.close()
        if worker.stoppedForAbandonedTasks {
            // (How many are still held now is moot: closing the store ends some of them.)
            log("quell worker \(worker.id) exiting with code 75: it held more abandoned handlers than "
                + "QUELL_ABANDONED_TASK_LIMIT=\(abandonedLimit) (handlers that ignored a stop; Swift cannot kill them): restart it")
            return 75
        }
        log("quell worker \(worker.id) stopped")
        return 0
    }
}
