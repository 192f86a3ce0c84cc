import Dispatch
import FoundationEssentials
import Glibc
import QuellSystem
import Synchronization

/// A Redis client shared by many concurrent callers.
///
/// One connection, driven by one thread of its own (never Swift's cooperative
/// pool). Callers enqueue commands and suspend; the thread takes everything
/// queued, writes it with one `write(2)` and resumes each caller as its replies
/// arrive. So 100 jobs finishing at once cost a few round trips, not 100.
/// Commands queued while replies are outstanding are written at once, not
/// after them: a caller with two calls in flight (the worker's fetch loop)
/// keeps Redis working on one while it works on the other's answer.
///
/// Blocking commands (`BLMOVE`, `XREAD BLOCK`) hold the connection: give them a
/// client of their own whose `commandTimeout` exceeds the block time.
///
/// On a dropped connection, commands in flight fail with `.connectionLost`
/// (they may have been applied; the caller decides). The next command
/// reconnects; failed connects back off exponentially with jitter, and while
/// backing off commands fail fast with the last connect error.
package final class RedisClient: Sendable {
    package let url: RedisURL
    package let options: RedisOptions
    private let backoff: Backoff

    private struct Request {
        let commands: [RedisCommand]
        let timeout: Double?
        let continuation: CheckedContinuation<[RedisReply], any Error>
    }

    private struct State {
        var queue: [Request] = []
        /// The thread waits on `wake` (nothing in flight)…
        var sleeping = false
        /// …or in poll(2) for replies, with `arrivals` to tell it of new commands.
        var awaitingReplies = false
        var closed = false
    }

    private let state = Mutex(State())
    /// Run on the connection thread after each connect, before any queued command.
    package typealias ConnectHook = @Sendable (_ connection: RedisConnection, _ reconnected: Bool) throws(RedisError) -> Void
    private let connectHooks = Mutex<[ConnectHook]>([])
    private let wake = DispatchSemaphore(value: 0)
    private let interrupt: WakePipe
    private let arrivals: WakePipe
    private let finished = DispatchSemaphore(value: 0)

    /// Counters for benchmarks and `/metrics`.
    package struct Statistics: Sendable {
        /// Batches written (each one `write(2)` and its replies: one round trip).
        package var roundTrips = 0
        /// Commands sent.
        package var commands = 0
        /// Successful connects, including the first.
        package var connects = 0
    }
    private let stats = Mutex(Statistics())

    /// What this client has done so far.
    package var statistics: Statistics { stats.withLock { $0 } }

    package init(url: RedisURL, options: RedisOptions = RedisOptions(), backoff: Backoff = Backoff()) {
        self.url = url
        self.options = options
        self.backoff = backoff
        self.interrupt = WakePipe()
        self.arrivals = WakePipe()
        OSThread.start { [self] in self.run() }
    }

    deinit {
        interrupt.close()
        arrivals.close()
    }

    /// Adds work to run on every new connection before anything queued is sent
    /// on it (`reconnected` is false for the client's first connection). A hook
    /// that throws fails the connect: the queued commands fail with its error
    /// and the next command tries again (with backoff).
    package func addConnectHook(_ hook: @escaping ConnectHook) {
        connectHooks.withLock { $0.append(hook) }
    }

    /// Sends one command. Error replies throw `RedisError.server`.
    @discardableResult
    package func send(_ command: RedisCommand, timeout: Double? = nil) async throws -> RedisReply {
        let replies = try await submit([command], timeout: timeout)
        return try replies[0].orThrow()
    }

    /// Sends one command built from its words.
    @discardableResult
    package func send(_ name: String, _ arguments: any RedisArgument...) async throws -> RedisReply {
        try await send(RedisCommand(name, arguments))
    }

    /// Sends commands in one batch; replies come back in order, error replies
    /// as `.error` values. Connection failures throw.
    package func pipeline(_ commands: [RedisCommand], timeout: Double? = nil) async throws -> [RedisReply] {
        if commands.isEmpty { return [] }
        return try await submit(commands, timeout: timeout)
    }

    /// Stops the thread; queued and later commands fail with `.closed`.
    package func close() {
        let wasClosed = state.withLock { s -> Bool in
            let was = s.closed
            s.closed = true
            return was
        }
        if wasClosed { return }
        interrupt.signal()
        wake.signal()
        finished.wait()
    }

    private func submit(_ commands: [RedisCommand], timeout: Double?) async throws -> [RedisReply] {
        try await withCheckedThrowingContinuation { continuation in
            let request = Request(commands: commands, timeout: timeout, continuation: continuation)
            enum Wake { case none, idle, polling }
            let (accepted, wakeThread) = state.withLock { s -> (Bool, Wake) in
                if s.closed { return (false, .none) }
                s.queue.append(request)
                if s.sleeping {
                    s.sleeping = false
                    return (true, .idle)
                }
                if s.awaitingReplies {
                    s.awaitingReplies = false
                    return (true, .polling)
                }
                return (true, .none)
            }
            if !accepted {
                continuation.resume(throwing: RedisError.closed)
            } else if wakeThread == .idle {
                wake.signal()
            } else if wakeThread == .polling {
                arrivals.signal()
            }
        }
    }

    /// Blocks the connection thread until there is work; nil once closed.
    private func takeBatch() -> [Request]? {
        while true {
            let taken = state.withLock { s -> [Request]?? in
                if s.closed { return .some(nil) }
                if s.queue.isEmpty {
                    s.sleeping = true
                    return nil
                }
                let batch = s.queue
                s.queue.removeAll(keepingCapacity: true)
                return .some(batch)
            }
            if let taken { return taken }
            wake.wait()
        }
    }

    /// Written batches awaiting replies at most. Three lets the worker keep
    /// its two start calls and a lone finish in flight (`bench/worker-ab` at
    /// c8: two cost ~10 % of its jobs/s, three as fast as no cap). Without a
    /// cap, steady load wrote each command as it came (50 callers looping on
    /// INCR: 9 commands per round trip; 15 with the cap, 26 with the old
    /// write-then-read client), and each round trip costs Redis a wakeup.
    static let batchesInFlight = 3

    private var isClosed: Bool { state.withLock { $0.closed } }

    /// What is queued now, without waiting ([] if nothing); nil once closed.
    private func takeQueued() -> [Request]? {
        state.withLock { s -> [Request]? in
            if s.closed { return nil }
            let batch = s.queue
            s.queue.removeAll(keepingCapacity: true)
            return batch
        }
    }

    private func run() {
        var connection: RedisConnection? = nil
        var lastConnectError: RedisError? = nil
        var nextConnectAt = 0.0
        var attempt = 0
        // Written, not yet answered, in order; the first has `replies` so far.
        var inFlight: [Request] = []
        var head = 0
        // Where each written batch ends in `inFlight`: at most
        // `Self.batchesInFlight` at once, so under steady load commands still
        // gather into few round trips (each costs Redis a wakeup).
        var batchEnds: [Int] = []
        var replies: [RedisReply] = []
        // When the first in flight last made progress (its timeout counts from there).
        var progressAt = 0.0
        func failInFlight(_ error: RedisError) {
            connection = nil
            let reported: RedisError
            switch error {
            case .closed: reported = .closed
            case .timeout, .protocolError: reported = error
            default: reported = .connectionLost("\(error): the command may have been applied")
            }
            fail(inFlight[head...], reported)
            inFlight.removeAll(keepingCapacity: true)
            batchEnds.removeAll(keepingCapacity: true)
            head = 0
            replies.removeAll(keepingCapacity: true)
        }
        while true {
            let idle = head == inFlight.count
            let mayWrite = batchEnds.count < Self.batchesInFlight
            guard let batch = idle ? takeBatch() : mayWrite ? takeQueued() : (isClosed ? nil : []) else { break }
            if !batch.isEmpty {
                if idle && (connection == nil || !(connection!.isAliveWhileIdle())) {
                    connection = nil
                    let now = RedisConnection.now()
                    if now < nextConnectAt, let error = lastConnectError {
                        fail(batch, error)
                        continue
                    }
                    do throws(RedisError) {
                        let fresh = try RedisConnection(url: url, options: options, interruptFD: interrupt.readFD)
                        let reconnected = stats.withLock { $0.connects > 0 }
                        do throws(RedisError) {
                            for hook in connectHooks.withLock({ $0 }) { try hook(fresh, reconnected) }
                        } catch {
                            fresh.close()
                            throw error
                        }
                        connection = fresh
                        stats.withLock { $0.connects += 1 }
                        attempt = 0
                        lastConnectError = nil
                    } catch {
                        lastConnectError = error
                        nextConnectAt = RedisConnection.now() + backoff.delay(attempt: attempt)
                        attempt += 1
                        fail(batch, error)
                        continue
                    }
                }
                var commands: [RedisCommand] = []
                if batch.count == 1 {
                    commands = batch[0].commands
                } else {
                    for r in batch { commands.append(contentsOf: r.commands) }
                }
                stats.withLock {
                    $0.roundTrips += 1
                    $0.commands += commands.count
                }
                if idle { progressAt = RedisConnection.now() }
                // Drop what was answered (all of it when idle), so a client
                // that is never idle does not keep every request it served.
                if head > 0 {
                    inFlight.removeFirst(head)
                    for i in batchEnds.indices { batchEnds[i] -= head }
                    head = 0
                }
                inFlight.append(contentsOf: batch)
                batchEnds.append(inFlight.count)
                do throws(RedisError) {
                    try connection!.write(commands, timeout: batch.compactMap(\.timeout).max())
                } catch {
                    failInFlight(error)
                    continue
                }
            }
            guard let conn = connection, head < inFlight.count else { continue }
            do throws(RedisError) {
                // Answer whoever's replies are here; then wait for more, or
                // for new commands to write.
                while head < inFlight.count, let reply = try conn.nextBufferedReply() {
                    replies.append(reply)
                    progressAt = RedisConnection.now()
                    if replies.count == inFlight[head].commands.count {
                        inFlight[head].continuation.resume(returning: replies)
                        replies = []
                        head += 1
                        while let end = batchEnds.first, end <= head { batchEnds.removeFirst() }
                    }
                }
                if head == inFlight.count { continue }
                let limit = inFlight[head].timeout ?? options.commandTimeout
                if batchEnds.count >= Self.batchesInFlight {
                    // Full: new commands wait for the next write, so only a
                    // reply can move things on.
                    if try conn.waitForReply(orWake: -1, deadline: progressAt + limit) { try conn.readAvailable() }
                    continue
                }
                let waiting = state.withLock { s -> Bool in
                    if !s.queue.isEmpty || s.closed { return false }
                    s.awaitingReplies = true
                    return true
                }
                if !waiting { continue }
                let readable = try conn.waitForReply(orWake: arrivals.readFD, deadline: progressAt + limit)
                state.withLock { $0.awaitingReplies = false }
                arrivals.drain()
                if readable { try conn.readAvailable() }
            } catch {
                state.withLock { $0.awaitingReplies = false }
                failInFlight(error)
            }
        }
        connection?.close()
        fail(inFlight[head...], .closed)
        // Closed: fail whatever is still queued.
        let rest = state.withLock { s -> [Request] in
            let q = s.queue
            s.queue.removeAll()
            return q
        }
        fail(rest[...], .closed)
        finished.signal()
    }

    private func fail(_ requests: [Request], _ error: RedisError) { fail(requests[...], error) }

    private func fail(_ requests: ArraySlice<Request>, _ error: RedisError) {
        for r in requests { r.continuation.resume(throwing: error) }
    }
}

/// Exponential backoff with full jitter: attempt n waits a random time in
/// [base·2ⁿ / 2, base·2ⁿ], capped at `max`.
public struct Backoff: Sendable, Equatable {
    /// Seconds of the first wait's ceiling; each later attempt doubles it.
    public var base: Double
    /// The longest wait, in seconds.
    public var max: Double

    /// A backoff from `base` seconds, doubling, capped at `max` seconds.
    public init(base: Double = 0.05, max: Double = 2) {
        self.base = base
        self.max = max
    }

    /// Seconds to wait before attempt `attempt + 1` (attempt 0 = the first retry).
    public func delay(attempt: Int) -> Double {
        let ceiling = Swift.min(max, base * pow(2, Double(Swift.min(attempt, 30))))
        return Double.random(in: (ceiling / 2)...ceiling)
    }
}

/// A pipe used to wake a thread blocked in `poll(2)`.
final class WakePipe: Sendable {
    let readFD: Int32
    let writeFD: Int32

    init() {
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) != 0 {
            fatalError("pipe failed: \(String(cString: strerror(errno)))")
        }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readFD = fds[0]
        writeFD = fds[1]
    }

    func signal() {
        var b: UInt8 = 1
        _ = Glibc.write(writeFD, &b, 1)
    }

    /// Empties the pipe after a wake-up.
    func drain() {
        var buf = [UInt8](repeating: 0, count: 64)
        while Glibc.read(readFD, &buf, buf.count) > 0 {}
    }

    func close() {
        _ = Glibc.close(readFD)
        _ = Glibc.close(writeFD)
    }
}
