import Glibc

/// One HTTP/1.1 request on a connection of its own, blocking the calling
/// thread (run it on a thread of its own, never on Swift's cooperative pool):
/// connects, writes `request` (a whole request, with `Connection: close`),
/// reads until the answer is complete by its Content-Length or the
/// connection closes. `timeout` (seconds, on each socket call) only ends a
/// hang. For the demo's and the chaos suite's clients of the API.
public func httpExchange(host: String, port: Int, request: [UInt8], timeout: Int = 60) -> Result<HTTPAnswer, HTTPExchangeError> {
    var hints = addrinfo()
    hints.ai_flags = AI_NUMERICSERV
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var list: UnsafeMutablePointer<addrinfo>?
    let rc = getaddrinfo(host, String(port), &hints, &list)
    guard rc == 0, let first = list else {
        return .failure(HTTPExchangeError(description: "cannot resolve \(host): \(String(cString: gai_strerror(rc)))"))
    }
    defer { freeaddrinfo(first) }
    var fd: Int32 = -1
    var lastError = "no address"
    var next: UnsafeMutablePointer<addrinfo>? = first
    while let ai = next, fd < 0 {
        next = ai.pointee.ai_next
        let s = socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), ai.pointee.ai_protocol)
        guard s >= 0 else { continue }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        if connect(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 {
            fd = s
        } else {
            lastError = String(cString: strerror(errno))
            close(s)
        }
    }
    guard fd >= 0 else { return .failure(HTTPExchangeError(description: "cannot connect to \(host):\(port): \(lastError)")) }
    defer { close(fd) }
    var offset = 0
    while offset < request.count {
        let n = request.withUnsafeBytes { send(fd, $0.baseAddress! + offset, request.count - offset, Int32(MSG_NOSIGNAL)) }
        if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else {
            return .failure(HTTPExchangeError(description: "cannot send to \(host):\(port): \(String(cString: strerror(errno)))"))
        }
    }
    var answer: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16_384)
    while !HTTPAnswer.isComplete(answer) {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n > 0 {
            answer += chunk[..<n]
        } else if n == 0 {
            break
        } else if errno != EINTR {
            return .failure(HTTPExchangeError(description: "no answer from \(host):\(port): \(String(cString: strerror(errno)))"))
        }
    }
    guard let parsed = HTTPAnswer(answer) else {
        return .failure(HTTPExchangeError(description: "\(host):\(port) closed the connection without a whole answer"))
    }
    return .success(parsed)
}

/// Why `httpExchange` got no answer.
public struct HTTPExchangeError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// An HTTP answer: its status and body (headers are not kept).
public struct HTTPAnswer: Sendable {
    public var status: Int
    public var body: [UInt8]

    /// Parses a whole answer; nil when the status line or header is incomplete.
    init?(_ bytes: [UInt8]) {
        guard let end = Self.headerEnd(bytes) else { return nil }
        let header = String(decoding: bytes[..<end], as: UTF8.self)
        let fields = (header.split(separator: "\r\n").first ?? "").split(separator: " ")
        guard fields.count >= 2, let status = Int(fields[1]) else { return nil }
        self.status = status
        var body = Array(bytes[end...])
        if let length = Self.contentLength(header), body.count > length { body = Array(body.prefix(length)) }
        self.body = body
    }

    /// Where the header ends (after CRLFCRLF), if it has.
    private static func headerEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i + 4
        }
        return nil
    }

    private static func contentLength(_ header: String) -> Int? {
        for line in header.split(separator: "\r\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "content-length" {
                return Int(parts[1].filter { $0 != " " && $0 != "\t" })
            }
        }
        return nil
    }

    static func isComplete(_ bytes: [UInt8]) -> Bool {
        guard let end = headerEnd(bytes),
              let length = contentLength(String(decoding: bytes[..<end], as: UTF8.self)) else { return false }
        return bytes.count >= end + length
    }
}
