import Foundation
import Quell
import QuellDemo

/// `quell-bench spin-worker`: a library `Worker` with the demo tasks plus
/// `bench.spin`, a handler that checkpoints every 1 ms until cancelled. It
/// prints `stopped ID T` (T on CLOCK_MONOTONIC, the clock bench/peers reads)
/// when the checkpoint throws, so a driver in another process can time
/// "cancel call → handler stops". Runs until SIGTERM/SIGINT.
enum SpinWorker {
    static func run(_ options: Options) async throws {
        let url = try RedisURL(options.string("url", "redis://127.0.0.1:6379/0"))
        let config = QuellConfiguration(redisURL: url, prefix: options.string("prefix", "quell"))
        let store = JobStore(configuration: config, clientName: "bench-spin-worker")
        defer { store.close() }
        let registry = TaskRegistry()
        DemoTasks.register(in: registry)
        registry.register("bench.spin", params: DemoTasks.NoParams.self) { _, context in
            let (t, error) = await spinUntilStopped(context)
            FileHandle.standardOutput.write(Data("stopped \(context.job.id) \(t)\n".utf8))
            throw error
        }
        let worker = Worker(store: store, registry: registry,
                            options: Worker.Options(concurrency: options.int("concurrency", 4)))
        let signals = worker.shutdownOnTerminationSignals()
        FileHandle.standardOutput.write(Data("ready\n".utf8))
        await worker.run()
        signals.cancel()
    }
}
