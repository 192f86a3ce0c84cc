import Glibc
import QuellSystem
import Synchronization

/// SIGTERM and SIGINT for a long-running process. The handlers are installed
/// when this is made — make it before announcing the process — so a signal
/// that arrives before anyone waits is never fatal. `wait()` returns the
/// first one; a second SIGINT exits at once (code 130), as Celery and
/// Sidekiq workers do.
public final class TerminationSignals: Sendable {
    private let stop: FirstSignal
    private let watcher: SignalWatcher

    /// `name` prefixes the line printed on a second SIGINT.
    public init(name: String) {
        let stop = FirstSignal(name: name)
        self.stop = stop
        watcher = SignalWatcher([SIGTERM, SIGINT]) { signal in stop.fire(signal) }
    }

    /// Suspends until SIGTERM or SIGINT; returns which.
    public func wait() async -> Int32 { await stop.wait() }

    /// Stops watching (the signals stay caught, and are then dropped).
    public func cancel() { watcher.cancel() }
}

extension Worker {
    /// Turns the first SIGTERM or SIGINT into `beginGracefulShutdown()` (a
    /// second SIGINT exits at once). Keep the returned value while the worker runs.
    ///
    ///     let signals = worker.shutdownOnTerminationSignals()
    ///     await worker.run()
    ///     signals.cancel()
    public func shutdownOnTerminationSignals() -> TerminationSignals {
        let signals = TerminationSignals(name: "worker \(id)")
        Task { [self] in
            let signal = await signals.wait()
            options.logger.log(.notice, "\(signal == SIGINT ? "SIGINT" : "SIGTERM"): shutting down gracefully (interrupt again to exit now)",
                               ["worker": id])
            beginGracefulShutdown()
        }
        return signals
    }
}

/// The first SIGTERM or SIGINT, handed to whoever waits for it.
private final class FirstSignal: Sendable {
    private let name: String
    init(name: String) { self.name = name }

    private struct State {
        var signal: Int32?
        var waiters: [CheckedContinuation<Int32, Never>] = []
    }

    private let state = Mutex(State())

    /// The first signal wakes the waiters; a second SIGINT exits at once (130).
    func fire(_ signal: Int32) {
        let (waiters, again) = state.withLock { s -> ([CheckedContinuation<Int32, Never>], Bool) in
            guard s.signal == nil else { return ([], true) }
            s.signal = signal
            defer { s.waiters = [] }
            return (s.waiters, false)
        }
        if again {
            if signal == SIGINT {
                let line = Array("\(name): second interrupt: exiting now\n".utf8)
                _ = line.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
                exit(130)
            }
            return
        }
        for w in waiters { w.resume(returning: signal) }
    }

    func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { s -> Int32? in
                if let signal = s.signal { return signal }
                s.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
