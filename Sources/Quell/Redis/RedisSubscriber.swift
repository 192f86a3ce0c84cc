import FoundationEssentials
import Dispatch
import Glibc
import QuellSystem
import Synchronization

/// A pub/sub connection on a thread of its own. Delivers each message to
/// `onMessage`; after a dropped connection it reconnects with backoff,
/// subscribes again to every channel, and calls `onSubscribed` — a listener
/// uses that to catch up on what it may have missed while disconnected
/// (pub/sub does not replay).
package final class RedisSubscriber: Sendable {
    package typealias MessageHandler = @Sendable (_ channel: String, _ message: String) -> Void
    package typealias SubscribedHandler = @Sendable (_ reconnected: Bool) -> Void

    package let url: RedisURL
    private let options: RedisOptions
    private let backoff: Backoff
    private let onMessage: MessageHandler
    private let onSubscribed: SubscribedHandler
    private let pingInterval: Double

    private struct State {
        var channels: Set<String> = []
        var changed = false
        var closed = false
        var connected = false
    }
    private let state = Mutex(State())
    private let wake = WakePipe()
    private let finished = DispatchSemaphore(value: 0)

    /// - Parameter pingInterval: seconds between `PING`s on an idle connection,
    ///   so a silently dead link is noticed within about two intervals.
    package init(url: RedisURL, channels: [String], options: RedisOptions = RedisOptions(),
                backoff: Backoff = Backoff(), pingInterval: Double = 5,
                onSubscribed: @escaping SubscribedHandler = { _ in },
                onMessage: @escaping MessageHandler) {
        self.url = url
        self.options = options
        self.backoff = backoff
        self.onMessage = onMessage
        self.onSubscribed = onSubscribed
        self.pingInterval = pingInterval
        state.withLock { $0.channels = Set(channels) }
        OSThread.start { [self] in self.run() }
    }

    /// True while subscribed on a live connection.
    package var isConnected: Bool { state.withLock { $0.connected } }

    /// Adds channels; takes effect at once on a live connection.
    package func subscribe(_ channels: [String]) {
        state.withLock {
            $0.channels.formUnion(channels)
            $0.changed = true
        }
        wake.signal()
    }

    /// Removes channels.
    package func unsubscribe(_ channels: [String]) {
        state.withLock {
            $0.channels.subtract(channels)
            $0.changed = true
        }
        wake.signal()
    }

    /// Stops the thread and closes the connection; waits until it has.
    package func close() {
        let already = state.withLock { s -> Bool in
            let was = s.closed
            s.closed = true
            return was
        }
        if already { return }
        wake.signal()
        finished.wait()
        wake.close()
    }

    private var isClosed: Bool { state.withLock { $0.closed } }

    private func run() {
        var attempt = 0
        var everConnected = false
        while !isClosed {
            do throws(RedisError) {
                let connection = try RedisConnection(url: url, options: options)
                attempt = 0
                try serve(connection, reconnected: everConnected) { everConnected = true }
                connection.close()
            } catch {
                // Refused, lost or timed out: back off, then try again.
            }
            state.withLock { $0.connected = false }
            if isClosed { break }
            sleep(seconds: backoff.delay(attempt: attempt))
            attempt += 1
        }
        finished.signal()
    }

    /// Waits on the wake pipe so `close()` interrupts the backoff sleep.
    private func sleep(seconds: Double) {
        var p = pollfd(fd: wake.readFD, events: Int16(POLLIN), revents: 0)
        _ = Glibc.poll(&p, 1, Int32(seconds * 1000))
    }

    private func serve(_ connection: RedisConnection, reconnected: Bool, onFirstSubscribe: () -> Void) throws(RedisError) {
        var subscribed: Set<String> = []
        var pendingConfirmations = 0
        var announced = false
        var lastActivity = RedisConnection.now()
        var pingOutstanding = false

        func sync() throws(RedisError) {
            let wanted = state.withLock { s -> Set<String> in
                s.changed = false
                return s.channels
            }
            let add = wanted.subtracting(subscribed)
            let remove = subscribed.subtracting(wanted)
            var commands: [RedisCommand] = []
            if !add.isEmpty {
                commands.append(RedisCommand("SUBSCRIBE", add.sorted().map { $0 as any RedisArgument }))
                pendingConfirmations += add.count
            }
            if !remove.isEmpty {
                commands.append(RedisCommand("UNSUBSCRIBE", remove.sorted().map { $0 as any RedisArgument }))
            }
            if !commands.isEmpty { try connection.write(commands) }
            subscribed = wanted
        }

        try sync()
        if pendingConfirmations == 0 {
            announced = true
            state.withLock { $0.connected = true }
            onFirstSubscribe()
            onSubscribed(reconnected)
        }
        while true {
            if isClosed { return }
            var fds = [pollfd(fd: connection.fileDescriptor, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: wake.readFD, events: Int16(POLLIN), revents: 0)]
            let n = Glibc.poll(&fds, 2, Int32(pingInterval * 1000))
            if n < 0 && errno != EINTR { throw .connectionLost("poll failed") }
            if fds[1].revents != 0 {
                wake.drain()
                if isClosed { return }
                if state.withLock({ $0.changed }) { try sync() }
            }
            if fds[0].revents != 0 {
                try connection.readAvailable()
                lastActivity = RedisConnection.now()
                pingOutstanding = false
                while let reply = try connection.nextBufferedReply() {
                    guard case .array(let parts) = reply, parts.count >= 3, let kind = parts[0].string else { continue }
                    switch kind {
                    case "message":
                        if let channel = parts[1].string, let message = parts[2].string {
                            onMessage(channel, message)
                        }
                    case "subscribe":
                        pendingConfirmations -= 1
                        if pendingConfirmations <= 0 && !announced {
                            announced = true
                            state.withLock { $0.connected = true }
                            onFirstSubscribe()
                            onSubscribed(reconnected)
                        }
                    default:
                        break  // unsubscribe confirmations, pong
                    }
                }
            }
            let idle = RedisConnection.now() - lastActivity
            if idle >= pingInterval {
                if pingOutstanding && idle >= 2 * pingInterval {
                    throw .timeout("subscriber ping unanswered for \(Int(idle))s")
                }
                if !pingOutstanding {
                    try connection.write([RedisCommand("PING")])
                    pingOutstanding = true
                }
            }
        }
    }
}
