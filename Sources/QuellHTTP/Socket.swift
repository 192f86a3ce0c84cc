import Glibc

/// Why the server could not start.
public enum HTTPServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `start()` was called twice, or after `shutdown`.
    case alreadyStarted
    /// The host did not resolve to an address.
    case resolve(host: String, message: String)
    /// No resolved address could be bound and listened on.
    case bind(host: String, port: Int, message: String)
    /// A needed descriptor could not be created.
    case system(String)

    /// A one-line explanation.
    public var description: String {
        switch self {
        case .alreadyStarted: "the server was already started"
        case .resolve(let host, let message): "cannot resolve \(host): \(message)"
        case .bind(let host, let port, let message): "cannot listen on \(host):\(port): \(message)"
        case .system(let message): message
        }
    }
}

/// Thin wrappers over the socket calls the server needs. All of them block only the
/// calling thread, which is always one of the server's own threads.
enum Socket {
    /// A non-blocking listening socket on host:port, and the port actually bound.
    static func listen(host: String, port: Int, backlog: Int) throws(HTTPServerError) -> (fd: Int32, port: Int) {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw .resolve(host: host, message: String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(first) }
        var lastError = "no usable address"
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let ai = next {
            next = ai.pointee.ai_next
            let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), ai.pointee.ai_protocol)
            guard fd >= 0 else {
                lastError = errnoString()
                continue
            }
            var one: Int32 = 1
            _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            if bind(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0,
                Glibc.listen(fd, Int32(clamping: backlog)) == 0
            {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                return (fd, localPort(fd) ?? port)
            }
            lastError = errnoString()
            close(fd)
        }
        throw .bind(host: host, port: port, message: lastError)
    }

    static func localPort(_ fd: Int32) -> Int? {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        guard rc == 0 else { return nil }
        return describe(storage)?.port
    }

    /// Address and port of a socket address (IPv4 or IPv6).
    static func describe(_ storage: sockaddr_storage) -> (host: String, port: Int)? {
        var storage = storage
        return withUnsafePointer(to: &storage) { p -> (String, Int)? in
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
            switch Int32(p.pointee.ss_family) {
            case AF_INET:
                return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { a -> (String, Int)? in
                    var addr = a.pointee.sin_addr
                    guard inet_ntop(AF_INET, &addr, &text, socklen_t(text.count)) != nil else { return nil }
                    return (cString(text), Int(UInt16(bigEndian: a.pointee.sin_port)))
                }
            case AF_INET6:
                return p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { a -> (String, Int)? in
                    var addr = a.pointee.sin6_addr
                    guard inet_ntop(AF_INET6, &addr, &text, socklen_t(text.count)) != nil else { return nil }
                    return ("[" + cString(text) + "]", Int(UInt16(bigEndian: a.pointee.sin6_port)))
                }
            default:
                return nil
            }
        }
    }

    /// Accepts one connection: the descriptor (close-on-exec, blocking) and the peer as
    /// `host:port`, or the errno of the failure.
    static func accept(_ listenFD: Int32) -> Result<(fd: Int32, peer: String?), Errno> {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(listenFD, $0, &len) }
        }
        guard fd >= 0 else { return .failure(Errno(errno)) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        let peer = describe(storage).map { "\($0.host):\($0.port)" }
        return .success((fd, peer))
    }

    static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Makes blocking sends give up after `timeout`.
    static func setSendTimeout(_ fd: Int32, _ timeout: Duration) {
        let ms = milliseconds(timeout)
        var tv = timeval(tv_sec: ms / 1000, tv_usec: (ms % 1000) * 1000)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends every byte (blocking). False on any failure, including the send timeout.
    static func sendAll(_ fd: Int32, _ bytes: [UInt8], flags: Int32 = 0) -> Bool {
        bytes.withUnsafeBytes { sendAll(fd, $0, flags: flags) }
    }

    static func sendAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, flags: Int32 = 0) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var offset = 0
        while offset < bytes.count {
            let n = send(fd, base + offset, bytes.count - offset, Int32(MSG_NOSIGNAL) | flags)
            if n > 0 {
                offset += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return false
            }
        }
        return true
    }
}

/// The string in a NUL-terminated buffer.
private func cString(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// An errno value.
struct Errno: Error, Sendable, Equatable {
    var code: Int32
    init(_ code: Int32) { self.code = code }
}

func errnoString(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}

/// Whole milliseconds in a duration, rounded up, clamped to `Int` and at least 0.
func milliseconds(_ d: Duration) -> Int {
    let (seconds, attoseconds) = d.components
    if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
    let (ms, overflow) = seconds.multipliedReportingOverflow(by: 1000)
    if overflow { return Int.max / 2 }
    let fraction = (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
    return Int(clamping: ms) &+ Int(fraction)
}

/// A pipe whose ends are non-blocking and close-on-exec.
func makeNonBlockingPipe() -> (read: Int32, write: Int32)? {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { return nil }
    for fd in fds {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    }
    return (fds[0], fds[1])
}
