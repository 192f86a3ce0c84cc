import Dispatch
import Glibc
import Synchronization

/// One connection, served start to end on its own thread. Not shared: only that thread
/// touches it. Other threads reach the connection through its `ConnectionControl`.
final class HTTPConnection {
    private let core: ServerCore
    private let control: ConnectionControl
    private let fd: Int32
    private let peer: String?
    private var parser: HTTPRequestParser
    private var readBuffer = [UInt8](repeating: 0, count: 16 * 1024)
    private var date = HTTPDate()
    private let clock = ContinuousClock()

    init(core: ServerCore, control: ConnectionControl, fd: Int32, peer: String?) {
        self.core = core
        self.control = control
        self.fd = fd
        self.peer = peer
        self.parser = HTTPRequestParser(limits: core.configuration.limits)
    }

    private var configuration: HTTPServerConfiguration { core.configuration }

    func run() {
        defer {
            control.closeSocket()
            core.connectionEnded(control)
        }
        Socket.setNoDelay(fd)
        Socket.setSendTimeout(fd, configuration.writeTimeout)
        // Deadline for the head of the current request; for the first one it runs from accept.
        var headDeadline: ContinuousClock.Instant? = clock.now + configuration.headerReadTimeout
        while true {
            switch parser.next() {
            case .request(var request):
                request.remoteAddress = peer
                guard serve(request) else { return }
                headDeadline = nil
            case .expectContinue:
                guard Socket.sendAll(fd, Self.continueLine) else { return }
            case .error(let error):
                _ = sendError(error.status, code: error.code, message: error.message)
                lingeringClose()
                return
            case .needMoreData:
                let idle = !parser.hasPartialRequest
                let deadline: ContinuousClock.Instant
                if parser.isReadingBody {
                    deadline = clock.now + configuration.bodyReadTimeout
                } else if idle && headDeadline == nil {
                    deadline = clock.now + configuration.idleTimeout
                } else {
                    let d = headDeadline ?? clock.now + configuration.headerReadTimeout
                    headDeadline = d
                    deadline = d
                }
                switch waitReadable(until: deadline, watchShutdown: idle) {
                case .readable:
                    guard receive() else { return }
                case .timedOut:
                    if parser.hasPartialRequest {
                        let what = parser.isReadingBody ? "body" : "head"
                        _ = sendError(.requestTimeout, code: "timeout", message: "the request \(what) did not arrive in time")
                        lingeringClose()
                    }
                    return
                case .shutdown:
                    return
                }
            }
        }
    }

    // MARK: Serving one request

    /// Runs the handler and writes its response. False when the connection must close.
    private func serve(_ request: HTTPRequest) -> Bool {
        let response = callHandler(request)
        switch response.body {
        case .bytes(let body):
            let keepAlive = request.keepAlive && !core.shuttingDown
                && !response.headers.containsToken("close", in: "Connection")
            let head = serializeHead(response, version: request.version, bodyLength: body.count, keepAlive: keepAlive)
            let sendBody = request.method != .head && Self.allowsBody(response.status)
            let ok: Bool
            if sendBody && !body.isEmpty && body.count <= 64 * 1024 {
                ok = Socket.sendAll(fd, head + body)
            } else {
                ok = Socket.sendAll(fd, head) && (!sendBody || Socket.sendAll(fd, body))
            }
            guard ok else { return false }
            if !keepAlive { lingeringClose() }
            return keepAlive
        case .stream(let body):
            runStream(response, body: body, request: request)
            return false
        }
    }

    /// Starts the handler as a task and blocks this (non-pool) thread until it answers.
    /// `Task.immediate` runs the handler here until its first suspension, so a handler that
    /// answers without awaiting costs no thread hop (about 55k → 75k req/s under wrk -c50).
    private func callHandler(_ request: HTTPRequest) -> HTTPResponse {
        let result = HandlerResult()
        let handler = core.handler
        let task = Task.immediate {
            result.set(await handler(request))
        }
        control.setTask(task)
        let response = result.wait()
        control.setTask(nil)
        return response
    }

    /// Streams a body: the producer runs as a task and hands its writes over a
    /// `StreamChannel`; this thread writes them, and watches the socket so that a client
    /// going away (or shutdown) ends the stream at once.
    private func runStream(_ response: HTTPResponse, body: @escaping HTTPStreamBody, request: HTTPRequest) {
        let head = serializeHead(response, version: request.version, bodyLength: nil, keepAlive: false)
        guard Socket.sendAll(fd, head), request.method != .head else { return }
        guard let channel = StreamChannel() else { return }
        let writer = HTTPBodyWriter(channel: channel)
        let task = Task {
            do { try await body(writer) } catch {}
            channel.finish()
        }
        control.setTask(task)
        defer {
            channel.close()
            task.cancel()
            control.setTask(nil)
        }
        var fds = [
            pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
            pollfd(fd: channel.wakeFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: core.shutdownFD, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            let rc = poll(&fds, 3, -1)
            if rc < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds[1].revents != 0 {
                let (writes, finished) = channel.take()
                var alive = true
                for w in writes {
                    if alive && !Socket.sendAll(fd, w.bytes) {
                        // Closed before any writer hears of the failure, so
                        // `isConnected` is already false when it does.
                        alive = false
                        channel.close()
                    }
                    if alive {
                        w.continuation.resume()
                    } else {
                        w.continuation.resume(throwing: HTTPStreamError.clientDisconnected)
                    }
                }
                if !alive { return }
                if finished {
                    lingeringClose()
                    return
                }
            }
            if fds[0].revents != 0 {
                // The client sends nothing during a stream: data is discarded, EOF or an error means it is gone.
                let n = readBuffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) { return }
            }
            if fds[2].revents != 0 { return }
        }
    }

    // MARK: Writing

    private static let continueLine = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    private static func allowsBody(_ status: HTTPStatus) -> Bool {
        !(status.code < 200 || status.code == 204 || status.code == 304)
    }

    /// Status line and header fields. `bodyLength` nil means a streamed body (no Content-Length).
    private func serializeHead(_ response: HTTPResponse, version: HTTPVersion, bodyLength: Int?, keepAlive: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(contentsOf: "HTTP/1.1 \(response.status.code) ".utf8)
        appendSanitized(response.status.reasonPhrase, to: &out)
        out.append(contentsOf: crlf)
        var hasDate = false
        for field in response.headers {
            if asciiCaseInsensitiveEquals(field.name, "Content-Length") || asciiCaseInsensitiveEquals(field.name, "Connection")
                || asciiCaseInsensitiveEquals(field.name, "Transfer-Encoding")
            {
                continue
            }
            if asciiCaseInsensitiveEquals(field.name, "Date") { hasDate = true }
            appendSanitized(field.name, to: &out)
            out.append(contentsOf: ": ".utf8)
            appendSanitized(field.value, to: &out)
            out.append(contentsOf: crlf)
        }
        if let bodyLength, Self.allowsBody(response.status) {
            out.append(contentsOf: "Content-Length: \(bodyLength)\r\n".utf8)
        }
        if !hasDate {
            out.append(contentsOf: "Date: ".utf8)
            out.append(contentsOf: date.now())
            out.append(contentsOf: crlf)
        }
        if !keepAlive {
            out.append(contentsOf: "Connection: close\r\n".utf8)
        } else if version == .http1_0 {
            out.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        out.append(contentsOf: crlf)
        return out
    }

    /// Copies `s`, turning CR and LF into spaces so a handler cannot split the response.
    private func appendSanitized(_ s: String, to out: inout [UInt8]) {
        for b in s.utf8 { out.append(b == 13 || b == 10 ? 32 : b) }
    }

    /// Sends one of the server's own JSON errors with `Connection: close`.
    private func sendError(_ status: HTTPStatus, code: String, message: String) -> Bool {
        let response = HTTPResponse.error(status, code: code, message: message)
        let body = response.bodyBytes ?? []
        return Socket.sendAll(fd, serializeHead(response, version: .http1_1, bodyLength: body.count, keepAlive: false) + body)
    }

    // MARK: Reading

    private enum Wait { case readable, timedOut, shutdown }

    /// Waits for bytes (or EOF) until `deadline`; with `watchShutdown`, also for the server's
    /// shutdown (only when no request is half-received).
    private func waitReadable(until deadline: ContinuousClock.Instant, watchShutdown: Bool) -> Wait {
        var fds = [
            pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
            pollfd(fd: core.shutdownFD, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            let now = clock.now
            if now >= deadline { return .timedOut }
            let ms = Int32(clamping: milliseconds(now.duration(to: deadline)))
            let rc = poll(&fds, watchShutdown ? 2 : 1, ms)
            if rc < 0 {
                if errno == EINTR { continue }
                return .readable  // let recv report the error
            }
            if rc == 0 { continue }
            if fds[0].revents != 0 { return .readable }
            if watchShutdown && fds[1].revents != 0 { return .shutdown }
        }
    }

    /// Reads what is available into the parser. False on EOF or error.
    private func receive() -> Bool {
        let n = readBuffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        if n > 0 {
            readBuffer.withUnsafeBytes { parser.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            return true
        }
        return n < 0 && (errno == EAGAIN || errno == EINTR)
    }

    /// Half-closes, then reads and drops what the client still sends until it closes too
    /// (bounded by `lingerTimeout` and `lingerMaxBytes`) before the socket is closed, so
    /// our last answer is not lost to a reset. Every path that ends a connection after
    /// answering comes through here, except a client gone or a failed write.
    private func lingeringClose() {
        Glibc.shutdown(fd, Int32(SHUT_WR))
        let deadline = clock.now + configuration.lingerTimeout
        var drained = 0
        while drained < configuration.lingerMaxBytes, waitReadable(until: deadline, watchShutdown: false) == .readable {
            let n = readBuffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) { return }
            drained += max(n, 0)
        }
    }
}

private let crlf: [UInt8] = [13, 10]

/// A handler's answer, handed from its task to the waiting connection thread.
private final class HandlerResult: Sendable {
    private let response = Mutex<HTTPResponse?>(nil)
    private let ready = DispatchSemaphore(value: 0)

    func set(_ r: HTTPResponse) {
        response.withLock { $0 = r }
        ready.signal()
    }

    func wait() -> HTTPResponse {
        ready.wait()
        return response.withLock { $0.take() }
            ?? HTTPResponse.error(.internalServerError, code: "internal_error", message: "the handler gave no response")
    }
}

/// The `Date` header value, formatted at most once a second.
struct HTTPDate {
    private var second = -1
    private var text: [UInt8] = []

    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    mutating func now() -> [UInt8] {
        var t = time(nil)
        if t != second {
            second = t
            var parts = tm()
            gmtime_r(&t, &parts)
            func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
            let s = "\(Self.days[Int(parts.tm_wday) % 7]), \(two(parts.tm_mday)) \(Self.months[Int(parts.tm_mon) % 12]) \(parts.tm_year + 1900) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
            text = Array(s.utf8)
        }
        return text
    }
}
