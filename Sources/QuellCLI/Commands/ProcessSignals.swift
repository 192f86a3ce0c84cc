import QuellTerminal
import Synchronization
import Glibc

/// SIGTERM/SIGINT for the long-running commands (api, worker). The handlers
/// are installed when this is made — before the command announces itself —
/// so a signal that arrives before anyone waits is never fatal. `wait()`
/// returns the first one; a second SIGINT exits at once (code 130).
final class TerminationSignals: Sendable {
    private let stop: StopSignal
    private let watcher: SignalWatcher

    init(command: String) {
        let stop = StopSignal(command: command)
        self.stop = stop
        watcher = SignalWatcher([SIGTERM, SIGINT]) { signal in stop.fire(signal) }
    }

    /// Suspends until SIGTERM or SIGINT; returns which.
    func wait() async -> Int32 { await stop.wait() }

    func cancel() { watcher.cancel() }
}

/// The first SIGTERM or SIGINT, handed to whoever waits for it.
private final class StopSignal: Sendable {
    private let command: String
    init(command: String) { self.command = command }

    private struct State {
        var signal: Int32?
        var waiter: CheckedContinuation<Int32, Never>?
    }

    private let state = Mutex(State())

    /// The first signal wakes the waiter; a second SIGINT exits at once (130).
    func fire(_ signal: Int32) {
        let (waiter, again) = state.withLock { s -> (CheckedContinuation<Int32, Never>?, Bool) in
            guard s.signal == nil else { return (nil, true) }
            s.signal = signal
            let w = s.waiter
            s.waiter = nil
            return (w, false)
        }
        if again {
            if signal == SIGINT {
                printError("\(command): second interrupt: exiting now")
                exit(130)
            }
            return
        }
        waiter?.resume(returning: signal)
    }

    func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { s -> Int32? in
                if let signal = s.signal { return signal }
                s.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}

