import Dispatch
import FoundationEssentials
import Synchronization
import Glibc

/// Waits for SIGTERM or SIGINT without blocking a thread. After the first
/// signal, a second SIGINT exits the process at once (code 130).
enum ProcessSignals {
    /// Suspends until SIGTERM or SIGINT arrives; returns which.
    static func waitForTermination() async -> Int32 {
        await withCheckedContinuation { (c: CheckedContinuation<Int32, Never>) in
            let queue = DispatchQueue(label: "quell.signals")
            let once = OnceFlag()
            var sources: [DispatchSourceSignal] = []
            for sig in [SIGTERM, SIGINT] {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
                source.setEventHandler {
                    if once.set() {
                        c.resume(returning: sig)
                    } else if sig == SIGINT {
                        printError("second interrupt: exiting now")
                        exit(130)
                    }
                }
                source.resume()
                sources.append(source)
            }
            Keep.sources = sources
        }
    }

    /// Keeps the signal sources alive for the life of the process.
    private enum Keep {
        nonisolated(unsafe) static var sources: [DispatchSourceSignal] = []
    }

    private final class OnceFlag: Sendable {
        private let done = Atomic(false)
        func set() -> Bool { !done.exchange(true, ordering: .acquiringAndReleasing) }
    }
}
