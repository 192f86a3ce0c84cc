#if canImport(Glibc)
import Glibc
import QuellSystem
#endif
import FoundationEssentials
import Synchronization

/// Reads key presses from a file descriptor on a thread of its own (never on
/// Swift's cooperative pool) and delivers decoded keys as an `AsyncStream`.
///
/// The thread polls with a short timeout so `stop()` takes effect within
/// about `pollInterval`, and so a lone ESC becomes the Esc key once no
/// further byte follows it. The stream finishes on `stop()`, end of input or
/// a read error. The reader does not own `fd`: close it only after `join()`
/// (otherwise the thread may poll a descriptor number that was reused).
public final class KeyReader: Sendable {
    public let fd: Int32
    public let keys: AsyncStream<Key>
    private let continuation: AsyncStream<Key>.Continuation
    private let stopped = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    private let pollMilliseconds: Int32
    private let exit = Mutex(Exit())

    private struct Exit {
        var done = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    public init(fd: Int32 = STDIN_FILENO, pollInterval: Duration = .milliseconds(50)) {
        self.fd = fd
        let (keys, continuation) = AsyncStream.makeStream(of: Key.self)
        self.keys = keys
        self.continuation = continuation
        let ms = pollInterval.components.seconds * 1000 + pollInterval.components.attoseconds / 1_000_000_000_000_000
        self.pollMilliseconds = Int32(clamping: max(ms, 1))
    }

    /// Starts the reading thread (once).
    public func start() {
        guard started.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        OSThread.start { [self] in run() }
    }

    /// Asks the thread to stop and finishes the stream; returns at once.
    public func stop() {
        stopped.store(true, ordering: .releasing)
        continuation.finish()
    }

    /// Returns once the reading thread has exited (at once if it never
    /// started). After `stop()` that takes at most about `pollInterval`.
    public func join() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let resumeNow = exit.withLock { exit in
                if exit.done || !started.load(ordering: .acquiring) { return true }
                exit.waiters.append(waiter)
                return false
            }
            if resumeNow { waiter.resume() }
        }
    }

    private func run() {
        var decoder = KeyDecoder()
        var buffer = [UInt8](repeating: 0, count: 256)
        defer {
            continuation.finish()
            let waiters = exit.withLock { exit in
                exit.done = true
                defer { exit.waiters.removeAll() }
                return exit.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
        while !stopped.load(ordering: .acquiring) {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, pollMilliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                return
            }
            if ready == 0 {
                for key in decoder.flush() { continuation.yield(key) }
                continue
            }
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return
            }
            if count == 0 {
                for key in decoder.flush() { continuation.yield(key) }
                return
            }
            for key in decoder.feed(buffer[0..<count]) { continuation.yield(key) }
        }
    }
}
