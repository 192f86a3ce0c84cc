import CHiredis
import Glibc

/// Timeouts and identity for a connection to Redis.
package struct RedisOptions: Sendable {
    /// Seconds to wait for a TCP or unix connect (and AUTH/SELECT) before giving up.
    package var connectTimeout: Double
    /// Seconds without progress after which a command fails with `.timeout`.
    /// A connection used for blocking commands needs more than their block time.
    package var commandTimeout: Double
    /// Sent with `CLIENT SETNAME` so `CLIENT LIST` tells Quell's connections apart.
    package var clientName: String?

    package init(connectTimeout: Double = 2, commandTimeout: Double = 5, clientName: String? = nil) {
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.clientName = clientName
    }
}

/// One synchronous connection to Redis, owned by one thread at a time.
///
/// hiredis is used for connecting and for parsing replies (its reader is fast C);
/// writes and waits are done here with a non-blocking socket and `poll(2)`, so
/// that a batch of commands costs one `write(2)`, timeouts are exact, and a
/// blocked read can be interrupted through `interruptFD`.
package final class RedisConnection {
    private var context: UnsafeMutablePointer<redisContext>?
    private var out: [UInt8] = []
    /// Set after any I/O or protocol error: hiredis contexts are dead after one.
    package private(set) var isBroken = false
    package let url: RedisURL
    package let options: RedisOptions
    /// A file descriptor that, once readable, makes any wait throw `.closed`.
    private let interruptFD: Int32

    /// Connects, authenticates and selects the database.
    package init(url: RedisURL, options: RedisOptions = RedisOptions(), interruptFD: Int32 = -1) throws(RedisError) {
        self.url = url
        self.options = options
        self.interruptFD = interruptFD
        let tv = Self.timeval(options.connectTimeout)
        let c: UnsafeMutablePointer<redisContext>?
        let target: String
        switch url.endpoint {
        case .tcp(let host, let port):
            c = redisConnectWithTimeout(host, Int32(port), tv)
            target = "\(host):\(port)"
        case .unix(let path):
            c = redisConnectUnixWithTimeout(path, tv)
            target = path
        }
        guard let c else { throw .connectionRefused("\(target): out of memory creating context") }
        if c.pointee.err != 0 {
            let message = Self.errorString(c)
            redisFree(c)
            throw .connectionRefused("\(target): \(message)")
        }
        context = c
        // Switch to non-blocking: hiredis then treats EAGAIN as "try later"
        // and we wait with poll(2) against our own deadlines.
        c.pointee.flags &= ~Int32(REDIS_BLOCK)
        let fl = fcntl(c.pointee.fd, F_GETFL)
        _ = fcntl(c.pointee.fd, F_SETFL, fl | O_NONBLOCK)
        // hiredis 0.14 opens sockets without close-on-exec: a child process
        // (quell demo starts some) must not inherit our Redis connections.
        _ = fcntl(c.pointee.fd, F_SETFD, FD_CLOEXEC)
        var one: Int32 = 1
        if case .tcp = url.endpoint {
            _ = setsockopt(c.pointee.fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            _ = redisEnableKeepAlive(c)
        }
        do throws(RedisError) {
            var setup: [RedisCommand] = []
            if let password = url.password {
                if let user = url.username {
                    setup.append(RedisCommand("AUTH", user, password))
                } else {
                    setup.append(RedisCommand("AUTH", password))
                }
            }
            if url.database != 0 { setup.append(RedisCommand("SELECT", url.database)) }
            if let name = options.clientName { setup.append(RedisCommand("CLIENT", "SETNAME", name)) }
            if !setup.isEmpty {
                let replies = try pipeline(setup, timeout: options.connectTimeout)
                for (command, reply) in zip(setup, replies) {
                    if case .error(let message) = reply {
                        // LOADING or BUSY while setting up: Redis is not serving yet.
                        // Nothing was applied; report it as a failed connect (backoff, 503).
                        if RedisError.isTransient(message) {
                            throw RedisError.connectionRefused("\(target): \(command.name): \(message)")
                        }
                        throw RedisError.server("\(command.name) failed: \(message)")
                    }
                }
            }
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// The socket, for callers that wait on it together with other descriptors.
    package var fileDescriptor: Int32 { context?.pointee.fd ?? -1 }

    /// Closes the socket; later calls fail with `.closed`.
    package func close() {
        if let c = context {
            redisFree(c)
            context = nil
        }
        isBroken = true
    }

    /// Sends one command and waits for its reply. Error replies are returned as
    /// `.error`, not thrown; connection failures are thrown.
    package func send(_ command: RedisCommand, timeout: Double? = nil) throws(RedisError) -> RedisReply {
        try pipeline([command], timeout: timeout)[0]
    }

    /// Writes all commands at once, then reads their replies in order.
    package func pipeline(_ commands: [RedisCommand], timeout: Double? = nil) throws(RedisError) -> [RedisReply] {
        try write(commands, timeout: timeout)
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in commands { replies.append(try readReply(timeout: timeout)) }
        return replies
    }

    /// True if the idle connection is still open: a server that closed it
    /// (restart, `CLIENT KILL`, idle timeout) shows as readable with EOF.
    /// Checking before a write avoids reporting "may have been applied" for a
    /// command that could never have reached the server.
    package func isAliveWhileIdle() -> Bool {
        guard let c = context, !isBroken else { return false }
        var p = pollfd(fd: c.pointee.fd, events: Int16(POLLIN), revents: 0)
        let n = Glibc.poll(&p, 1, 0)
        if n == 0 { return true }
        if n < 0 { return errno == EINTR }
        // Readable while idle: either EOF/error, or bytes nobody asked for.
        var byte: UInt8 = 0
        let r = recv(c.pointee.fd, &byte, 1, Int32(MSG_PEEK))
        if r > 0 { return true }  // pending push data (pub/sub); leave it to the reader
        if r < 0 && (errno == EAGAIN || errno == EINTR) { return true }
        markBroken()
        return false
    }

    // MARK: - Lower level, for pipelining clients and subscribers

    /// Encodes and writes commands; replies are read separately.
    package func write(_ commands: [RedisCommand], timeout: Double? = nil) throws(RedisError) {
        out.removeAll(keepingCapacity: true)
        for command in commands { command.encode(into: &out) }
        try flush(timeout: timeout ?? options.commandTimeout)
    }

    private func flush(timeout: Double) throws(RedisError) {
        guard let c = context, !isBroken else { throw isBroken && context == nil ? .closed : .connectionLost("connection is broken") }
        let fd = c.pointee.fd
        var offset = 0
        var deadline = Self.now() + timeout
        let total = out.count
        while offset < total {
            let n = out.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + offset, total - offset, Int32(MSG_NOSIGNAL))
            }
            if n > 0 {
                offset += n
                deadline = Self.now() + timeout
                continue
            }
            let e = errno
            if n < 0 && e == EINTR { continue }
            if n < 0 && (e == EAGAIN || e == EWOULDBLOCK) {
                // While our writes are blocked, Redis may be blocked writing replies
                // to us: keep reading into hiredis's buffer so neither side stalls.
                let ready = try wait(events: Int16(POLLOUT | POLLIN), deadline: deadline, what: "writing")
                if ready & Int16(POLLIN) != 0 {
                    if redisBufferRead(c) != REDIS_OK { throw lost("reading while writing") }
                }
                continue
            }
            throw lost("write: \(String(cString: strerror(e)))")
        }
    }

    /// Reads the next reply, waiting up to `timeout` seconds without progress.
    package func readReply(timeout: Double? = nil) throws(RedisError) -> RedisReply {
        guard let c = context, !isBroken else { throw context == nil ? .closed : .connectionLost("connection is broken") }
        let limit = timeout ?? options.commandTimeout
        var deadline = Self.now() + limit
        while true {
            if let reply = try nextBufferedReply() { return reply }
            _ = try wait(events: Int16(POLLIN), deadline: deadline, what: "waiting for a reply")
            if redisBufferRead(c) != REDIS_OK { throw lost("read") }
            deadline = Self.now() + limit
        }
    }

    /// A reply already received and buffered, if any; never blocks.
    package func nextBufferedReply() throws(RedisError) -> RedisReply? {
        guard let c = context else { throw .closed }
        var raw: UnsafeMutableRawPointer? = nil
        if redisGetReplyFromReader(c, &raw) != REDIS_OK {
            let message = Self.errorString(c)
            markBroken()
            throw .protocolError(message)
        }
        guard let raw else { return nil }
        let reply = Self.convert(raw.assumingMemoryBound(to: redisReply.self))
        freeReplyObject(raw)
        return reply
    }

    /// Reads whatever the socket has now into the reply buffer; never blocks.
    package func readAvailable() throws(RedisError) {
        guard let c = context, !isBroken else { throw .connectionLost("connection is broken") }
        if redisBufferRead(c) != REDIS_OK { throw lost("read") }
    }

    /// Waits until more of a reply can be read (true: call `readAvailable`)
    /// or `wakeFD` becomes readable (false), at most until `deadline`
    /// (`now()` seconds) — past it, the connection times out as a read does.
    /// For a client that writes new commands while replies are outstanding.
    package func waitForReply(orWake wakeFD: Int32, deadline: Double) throws(RedisError) -> Bool {
        let (revents, woken) = try wait(events: Int16(POLLIN), deadline: deadline, what: "waiting for a reply", wakeFD: wakeFD)
        return !woken || revents != 0
    }

    private func wait(events: Int16, deadline: Double, what: String) throws(RedisError) -> Int16 {
        try wait(events: events, deadline: deadline, what: what, wakeFD: -1).revents
    }

    private func wait(events: Int16, deadline: Double, what: String, wakeFD: Int32) throws(RedisError) -> (revents: Int16, woken: Bool) {
        guard let c = context else { throw .closed }
        while true {
            let remaining = deadline - Self.now()
            if remaining <= 0 {
                markBroken()
                throw .timeout("no reply within \(Self.format(options.commandTimeout))s (\(what))")
            }
            var fds = [pollfd(fd: c.pointee.fd, events: events, revents: 0),
                       pollfd(fd: interruptFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
            let count: nfds_t = wakeFD >= 0 ? 3 : interruptFD >= 0 ? 2 : 1
            let n = Glibc.poll(&fds, count, Int32(min(remaining * 1000 + 1, 3_600_000)))
            if n < 0 {
                if errno == EINTR { continue }
                throw lost("poll: \(String(cString: strerror(errno)))")
            }
            if n == 0 { continue }
            if count >= 2 && fds[1].revents != 0 {
                markBroken()
                throw .closed
            }
            let woken = count == 3 && fds[2].revents != 0
            if woken && fds[0].revents == 0 { return (0, true) }
            let r = fds[0].revents
            if r & Int16(POLLNVAL) != 0 { throw lost("socket closed") }
            // POLLHUP/POLLERR are reported as readable: the read then names the error.
            return (r & Int16(POLLHUP | POLLERR) != 0 ? r | Int16(POLLIN) : r, woken)
        }
    }

    private func lost(_ what: String) -> RedisError {
        let detail = context.map(Self.errorString) ?? what
        markBroken()
        return .connectionLost(detail.isEmpty ? what : detail)
    }

    private func markBroken() { isBroken = true }

    // MARK: - Helpers

    static func convert(_ r: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let reply = r.pointee
        switch reply.type {
        case REDIS_REPLY_STRING:
            return .bulk(Self.text(reply.str, reply.len))
        case REDIS_REPLY_STATUS:
            return .status(Self.text(reply.str, reply.len))
        case REDIS_REPLY_INTEGER:
            return .integer(Int(reply.integer))
        case REDIS_REPLY_NIL:
            return .null
        case REDIS_REPLY_ERROR:
            return .error(Self.text(reply.str, reply.len))
        case REDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            items.reserveCapacity(reply.elements)
            for i in 0..<reply.elements {
                if let e = reply.element[i] { items.append(convert(e)) } else { items.append(.null) }
            }
            return .array(items)
        default:
            return .error("unknown reply type \(reply.type)")
        }
    }

    private static func text(_ p: UnsafeMutablePointer<CChar>?, _ len: Int) -> String {
        guard let p, len > 0 else { return "" }
        return p.withMemoryRebound(to: UInt8.self, capacity: len) {
            String(decoding: UnsafeBufferPointer(start: $0, count: len), as: UTF8.self)
        }
    }

    static func errorString(_ c: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: c.pointee.errstr) { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            let end = bytes.firstIndex(of: 0) ?? bytes.count
            return String(decoding: bytes[..<end], as: UTF8.self)
        }
    }

    static func timeval(_ seconds: Double) -> Glibc.timeval {
        let s = max(0, seconds)
        return Glibc.timeval(tv_sec: Int(s), tv_usec: Int((s - s.rounded(.down)) * 1_000_000))
    }

    /// Monotonic seconds.
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
