import Glibc
import QuellSystem
import Synchronization

/// Lingering closes for sockets that have no connection thread: those refused at the
/// connection cap (see `HTTPServerConfiguration.lingerTimeout`). One thread, started
/// when the first socket arrives and ending when the last is closed, polls them all,
/// reads and drops what arrives, and closes each at its EOF, its deadline, or after
/// `maxBytes`. At most `maxSockets` linger at once; past that a socket is closed at once
/// (the server is over its cap: holding more would be the wrong way to spend it).
final class Lingerer: Sendable {
    private struct Entry {
        var fd: Int32
        var deadline: ContinuousClock.Instant
        var drained = 0
    }

    private struct State {
        var incoming: [Entry] = []
        var count = 0
        var running = false
    }

    private let state = Mutex(State())
    private let timeout: Duration
    private let maxBytes: Int
    let maxSockets: Int
    private let wakeRead: Int32
    private let wakeWrite: Int32

    init(timeout: Duration, maxBytes: Int, maxSockets: Int = 64) {
        self.timeout = timeout
        self.maxBytes = maxBytes
        self.maxSockets = maxSockets
        guard let pipe = makeNonBlockingPipe() else { fatalError("QuellHTTP: cannot create a pipe: \(errnoString())") }
        wakeRead = pipe.read
        wakeWrite = pipe.write
    }

    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    /// Sockets lingering now.
    var count: Int { state.withLock { $0.count } }

    /// Takes over `fd`, whose answer has been written: half-closes it, drains it, closes it.
    func linger(_ fd: Int32) {
        Glibc.shutdown(fd, Int32(SHUT_WR))
        let entry = Entry(fd: fd, deadline: ContinuousClock.now + timeout)
        let start = state.withLock { s -> Bool? in
            guard s.count < maxSockets else { return nil }
            s.count += 1
            s.incoming.append(entry)
            if s.running { return false }
            s.running = true
            return true
        }
        switch start {
        case nil: close(fd)
        case true?: OSThread.start(stackSize: 128 * 1024) { [self] in loop() }
        case false?:
            var one: UInt8 = 1
            _ = write(wakeWrite, &one, 1)
        }
    }

    private func loop() {
        var entries: [Entry] = []
        var scratch = [UInt8](repeating: 0, count: 64 * 1024)
        let clock = ContinuousClock()
        while true {
            let more = state.withLock { s -> [Entry]? in
                if entries.isEmpty && s.incoming.isEmpty {
                    s.running = false
                    return nil
                }
                defer { s.incoming.removeAll() }
                return s.incoming
            }
            guard let more else { return }
            entries += more
            var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            fds += entries.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            let now = clock.now
            let nearest = entries.map(\.deadline).min() ?? now
            let ms = Int32(clamping: milliseconds(now.duration(to: nearest)))
            let rc = poll(&fds, nfds_t(fds.count), ms)
            if rc < 0 && errno != EINTR { usleep(1000) }
            if fds[0].revents != 0 {
                var sink = [UInt8](repeating: 0, count: 64)
                while read(wakeRead, &sink, sink.count) > 0 {}
            }
            let after = clock.now
            var done: [Int] = []
            for (i, entry) in entries.enumerated() {
                var finished = after >= entry.deadline
                if !finished && fds[i + 1].revents != 0 {
                    let n = scratch.withUnsafeMutableBytes { recv(entry.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                    if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) {
                        finished = true
                    } else if n > 0 {
                        entries[i].drained += n
                        finished = entries[i].drained >= maxBytes
                    }
                }
                if finished { done.append(i) }
            }
            for i in done.reversed() {
                close(entries[i].fd)
                entries.remove(at: i)
            }
            if !done.isEmpty { state.withLock { $0.count -= done.count } }
        }
    }
}
