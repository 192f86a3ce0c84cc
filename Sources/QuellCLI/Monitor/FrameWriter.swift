import Dispatch
import QuellSystem
import QuellTerminal
import Synchronization

/// Writes screen frames to the terminal on a thread of its own, so a slow or
/// stalled terminal (a congested ssh session) never blocks Swift's
/// cooperative pool; when frames come faster than the terminal takes them,
/// only the newest is written.
final class FrameWriter: Sendable {
    private struct State {
        var frame: String?
        var closed = false
        var finished = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let session: TerminalSession

    init(session: TerminalSession) {
        self.session = session
        OSThread.start { [self] in run() }
    }

    /// Queues `lines` as the next frame, replacing one not yet written.
    func show(_ lines: [String]) {
        let frame = ANSI.frame(lines)
        state.withLock { $0.frame = frame }
        wake.signal()
    }

    /// Writes what is queued, stops the thread and returns once it has
    /// stopped (so nothing is written after, e.g. while the terminal is restored).
    func close() async {
        state.withLock { $0.closed = true }
        wake.signal()
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.finished { return true }
                state.waiters.append(waiter)
                return false
            }
            if done { waiter.resume() }
        }
    }

    private func run() {
        while true {
            wake.wait()
            let (frame, closed) = state.withLock { state -> (String?, Bool) in
                defer { state.frame = nil }
                return (state.frame, state.closed)
            }
            if let frame { session.write(frame) }
            if closed { break }
        }
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.finished = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
