import ContactsTasks
import FoundationEssentials
import Quell

/// A worker process with the `contacts.sync` task, on the task's queue.
/// Settings come from the QUELL_* environment: QUELL_REDIS_URL, QUELL_PREFIX,
/// the heartbeat and grace settings (`QuellConfiguration.fromEnvironment()`),
/// and QUELL_CONCURRENCY (read here: default 4). SIGTERM or SIGINT shuts it
/// down gracefully: running jobs get QUELL_SHUTDOWN_GRACE_SECONDS to finish,
/// then are requeued.
@main
struct ContactsWorker {
    static func main() async throws {
        let configuration = try QuellConfiguration.fromEnvironment()
        let store = JobStore(configuration: configuration)

        let registry = TaskRegistry()
        ContactsSyncTask.register(in: registry, remote: FakeContactsRemote(), book: AddressBook())

        let concurrency = Int(ProcessInfo.processInfo.environment["QUELL_CONCURRENCY"] ?? "") ?? 4
        let tally = JobTally()
        let logger = QuellLogger.standardError()
        let worker = Worker(store: store, registry: registry, options: Worker.Options(
            queues: [ContactsSync.defaults.queue], concurrency: concurrency, logger: logger, metrics: tally))

        let signals = worker.shutdownOnTerminationSignals()
        await worker.run()                        // until SIGTERM/SIGINT, then a graceful shutdown
        signals.cancel()
        logger.log(.info, "contacts-worker stopped", ["jobs": tally.summary])
    }
}
