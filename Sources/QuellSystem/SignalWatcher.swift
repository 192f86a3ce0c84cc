#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization

/// Calls a handler on a dispatch queue when one of `signals` arrives
/// (a Dispatch signal source: the handler is ordinary code, not a signal
/// handler, so it may lock, allocate and write).
///
/// Registration completes asynchronously. So that a signal arriving in that
/// window is not fatal, a signal still at its default disposition is set to
/// ignored first (Dispatch then installs its own handler). Dispatch installs
/// that handler once per process and never removes it: after `cancel()` the
/// signal stays caught, and with no watcher left it is simply dropped.
public final class SignalWatcher: Sendable {
    private let sources: Mutex<[any DispatchSourceSignal]>

    public init(_ signals: [Int32], queue: DispatchQueue = DispatchQueue(label: "quell.terminal.signals"),
                handler: @escaping @Sendable (Int32) -> Void) {
        var created: [any DispatchSourceSignal] = []
        for signal in signals {
            if Self.disposition(of: signal) == .default { Glibc.signal(signal, SIG_IGN) }
            let source = DispatchSource.makeSignalSource(signal: signal, queue: queue)
            source.setEventHandler { @Sendable in handler(signal) }
            source.resume()
            created.append(source)
        }
        sources = Mutex(created)
    }

    /// Stops watching. The signals keep whatever disposition Dispatch left.
    public func cancel() {
        sources.withLock { sources in
            for source in sources { source.cancel() }
            sources.removeAll()
        }
    }

    deinit { cancel() }

    /// What the process currently does on a signal.
    public enum Disposition: Sendable, Equatable { case `default`, ignore, handler }

    /// The current disposition of `signal` (read with `sigaction`).
    public static func disposition(of signal: Int32) -> Disposition {
        var current = sigaction()
        guard sigaction(signal, nil, &current) == 0 else { return .default }
        let handler = unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self)
        switch handler {
        case unsafeBitCast(SIG_DFL, to: Int.self): return .default
        case unsafeBitCast(SIG_IGN, to: Int.self): return .ignore
        default: return .handler
        }
    }
}
