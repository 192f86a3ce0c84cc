import FoundationEssentials
import QuellSystem
import Glibc
import Synchronization

/// Settings of an `HTTPServer`. Every field has a default; set what you need.
public struct HTTPServerConfiguration: Sendable {
    /// Address to listen on (a name or a numeric IPv4/IPv6 address).
    public var host: String
    /// Port to listen on; 0 picks a free one (read it from `HTTPServer.port`).
    public var port: Int
    /// Listen backlog.
    public var backlog: Int = 512
    /// Connections served at once; one more is answered 503 `too_many_connections` and closed.
    public var maxConnections: Int = 512
    /// Parser limits (head size, header count, body size).
    public var limits = HTTPParserLimits()
    /// Time allowed to receive a whole request head, from its first byte (for the first
    /// request, from the connection's accept). A late head is answered 408 and closed.
    public var headerReadTimeout: Duration = .seconds(10)
    /// Time a keep-alive connection may sit between requests before it is closed.
    public var idleTimeout: Duration = .seconds(60)
    /// Longest silence allowed while a request body is being received (408 after it).
    public var bodyReadTimeout: Duration = .seconds(30)
    /// Longest a single socket write may block (a client that stops reading is dropped).
    public var writeTimeout: Duration = .seconds(30)
    /// Lingering close (as nginx's `lingering_close`): an answer that ends the connection
    /// while the client may still be sending (an error before its body was read, a
    /// `Connection: close`) is followed by a half-close, then what still arrives is read
    /// and dropped until the client closes too, or for at most `lingerTimeout` and
    /// `lingerMaxBytes`. Closing with unread bytes would make the kernel reset the
    /// connection, and a client that writes its whole body before reading (Python's
    /// http.client does) would get a broken pipe instead of the answer.
    public var lingerTimeout: Duration = .seconds(2)
    /// Bytes read and dropped at most while lingering (see `lingerTimeout`).
    public var lingerMaxBytes: Int = 16 << 20
    /// Stack size of each connection thread.
    public var connectionStackSize: Int = 512 * 1024

    /// A configuration for host:port with default limits and timeouts.
    public init(host: String = "127.0.0.1", port: Int = 8080) {
        self.host = host
        self.port = port
    }
}

/// An HTTP/1.1 server. Each connection is served on a thread of its own (never on Swift's
/// cooperative pool); handlers are async and run as tasks while that thread waits.
///
/// Keep-alive, pipelining (answered in order), HTTP/1.0, header-read and idle timeouts, a
/// connection cap, streamed responses and graceful shutdown. Errors it produces itself
/// are JSON: `{"error": {"code": "...", "message": "..."}}`.
public final class HTTPServer: Sendable {
    /// The configuration it was created with.
    public let configuration: HTTPServerConfiguration
    let core: ServerCore

    /// A server that answers every request with `handler`. Call `start()` to listen.
    public init(configuration: HTTPServerConfiguration = HTTPServerConfiguration(), handler: @escaping HTTPHandler) {
        self.configuration = configuration
        self.core = ServerCore(configuration: configuration, handler: handler)
    }

    /// A server dispatching through `router`.
    public convenience init(configuration: HTTPServerConfiguration = HTTPServerConfiguration(), router: HTTPRouter) {
        self.init(configuration: configuration, handler: router.handler)
    }

    /// Binds, listens and starts accepting on a thread of its own. Returns once listening.
    /// The host is resolved here, on the calling thread: give a numeric address or a name
    /// from /etc/hosts when calling from async code. The server runs until `shutdown`;
    /// dropping the last reference does not stop it.
    public func start() throws(HTTPServerError) {
        try core.start()
    }

    /// The bound port (the real one when configured with port 0); 0 before `start()`.
    public var port: Int { core.boundPort }

    /// Connections currently open.
    public var connectionCount: Int { core.connectionCount }

    /// Stops accepting (the listening socket is closed), closes idle keep-alive connections,
    /// lets requests in flight finish and answers them with `Connection: close`, and ends
    /// streams (their writes throw, their tasks are cancelled). After `grace`, the remaining
    /// connections are closed and their handler tasks cancelled. Returns when every
    /// connection is closed (or, for a handler that ignores cancellation, one second after
    /// the grace period). If the calling task is cancelled, the grace period ends at once.
    /// Calling it again waits again.
    public func shutdown(grace: Duration = .seconds(30)) async {
        await core.shutdown(grace: grace)
    }
}

/// The state shared by the accept thread, the connection threads and `shutdown`.
final class ServerCore: Sendable {
    let configuration: HTTPServerConfiguration
    let handler: HTTPHandler
    /// Read end of the shutdown pipe: becomes (and stays) readable when shutdown begins.
    let shutdownFD: Int32
    private let shutdownSignalFD: Int32
    private let isShuttingDown = Atomic<Bool>(false)
    private let state = Mutex(State())
    /// Lingering closes of the connections refused at the cap.
    let lingerer: Lingerer

    private struct State {
        var started = false
        var accepting = false
        var port = 0
        var nextID = 0
        var connections: [Int: ConnectionControl] = [:]
    }

    init(configuration: HTTPServerConfiguration, handler: @escaping HTTPHandler) {
        self.configuration = configuration
        self.handler = handler
        self.lingerer = Lingerer(timeout: configuration.lingerTimeout, maxBytes: configuration.lingerMaxBytes)
        guard let pipe = makeNonBlockingPipe() else { fatalError("QuellHTTP: cannot create a pipe: \(errnoString())") }
        shutdownFD = pipe.read
        shutdownSignalFD = pipe.write
    }

    deinit {
        close(shutdownFD)
        close(shutdownSignalFD)
    }

    var shuttingDown: Bool { isShuttingDown.load(ordering: .acquiring) }
    var boundPort: Int { state.withLock { $0.port } }
    var connectionCount: Int { state.withLock { $0.connections.count } }

    func start() throws(HTTPServerError) {
        try state.withLock { (s: inout State) throws(HTTPServerError) in
            guard !s.started, !shuttingDown else { throw .alreadyStarted }
            s.started = true
        }
        let listener: (fd: Int32, port: Int)
        do {
            listener = try Socket.listen(host: configuration.host, port: configuration.port, backlog: configuration.backlog)
        } catch {
            state.withLock { $0.started = false }
            throw error
        }
        state.withLock {
            $0.port = listener.port
            $0.accepting = true
        }
        OSThread.start(stackSize: 256 * 1024) { [self] in acceptLoop(listener.fd) }
    }

    private func acceptLoop(_ listenFD: Int32) {
        defer {
            close(listenFD)
            state.withLock { $0.accepting = false }
        }
        var fds = [pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0), pollfd(fd: shutdownFD, events: Int16(POLLIN), revents: 0)]
        while true {
            let rc = poll(&fds, 2, -1)
            if rc < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds[1].revents != 0 { return }
            guard fds[0].revents != 0 else { continue }
            switch Socket.accept(listenFD) {
            case .success(let c):
                admit(c.fd, peer: c.peer)
            case .failure(let e):
                switch e.code {
                case EINTR, EAGAIN, ECONNABORTED, EPROTO: continue
                default: usleep(10_000)  // EMFILE, ENFILE, ENOBUFS, ENOMEM: back off, don't spin
                }
            }
        }
    }

    private func admit(_ fd: Int32, peer: String?) {
        let control = state.withLock { s -> ConnectionControl? in
            guard s.connections.count < configuration.maxConnections else { return nil }
            s.nextID += 1
            let c = ConnectionControl(id: s.nextID, fd: fd)
            s.connections[c.id] = c
            return c
        }
        guard let control else {
            refuseBusy(fd)
            return
        }
        OSThread.start(stackSize: configuration.connectionStackSize) { [self] in
            HTTPConnection(core: self, control: control, fd: fd, peer: peer).run()
        }
    }

    /// Answers 503 without a thread of its own: the response fits the socket buffer, and
    /// the lingering close (so that what the client still sends does not turn the close
    /// into a reset that destroys the answer) is the shared `lingerer`'s.
    private func refuseBusy(_ fd: Int32) {
        let body = HTTPResponse.errorBody(
            code: "too_many_connections",
            message: "the server is serving \(configuration.maxConnections) connections; retry later")
        let head = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
        _ = Socket.sendAll(fd, Array(head.utf8) + body, flags: Int32(MSG_DONTWAIT))
        lingerer.linger(fd)
    }

    func connectionEnded(_ control: ConnectionControl) {
        _ = state.withLock { $0.connections.removeValue(forKey: control.id) }
    }

    private var isDrained: Bool {
        state.withLock { $0.connections.isEmpty && !$0.accepting }
    }

    func shutdown(grace: Duration) async {
        if !isShuttingDown.exchange(true, ordering: .acquiringAndReleasing) {
            var one: UInt8 = 1
            _ = write(shutdownSignalFD, &one, 1)
        }
        let clock = ContinuousClock()
        if await waitUntilDrained(deadline: clock.now + grace) { return }
        let stragglers = state.withLock { Array($0.connections.values) }
        for c in stragglers { c.forceClose() }
        _ = await waitUntilDrained(deadline: clock.now + .seconds(1))
    }

    private func waitUntilDrained(deadline: ContinuousClock.Instant) async -> Bool {
        while !isDrained {
            if ContinuousClock.now >= deadline || Task.isCancelled { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }
}

/// What other threads may do to one connection: cancel its handler task and shut its socket.
final class ConnectionControl: Sendable {
    private struct State {
        var fd: Int32
        var task: Task<Void, Never>?
        var forced = false
    }

    let id: Int
    private let state: Mutex<State>

    init(id: Int, fd: Int32) {
        self.id = id
        state = Mutex(State(fd: fd))
    }

    /// Records the handler task now running (nil when it is done). A task set after a
    /// forced close is cancelled at once.
    func setTask(_ task: Task<Void, Never>?) {
        let cancel = state.withLock { s -> Bool in
            s.task = task
            return s.forced
        }
        if cancel { task?.cancel() }
    }

    /// Shutdown after the grace period: cancel the handler and wake any blocked socket call.
    func forceClose() {
        let task = state.withLock { s -> Task<Void, Never>? in
            s.forced = true
            if s.fd >= 0 { Glibc.shutdown(s.fd, Int32(SHUT_RDWR)) }
            return s.task
        }
        task?.cancel()
    }

    /// Closes the socket (once); the descriptor is never touched after this.
    func closeSocket() {
        state.withLock { s in
            if s.fd >= 0 {
                close(s.fd)
                s.fd = -1
            }
        }
    }
}
