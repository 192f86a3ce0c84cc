import Foundation
import Glibc
import QuellHTTP
import Synchronization
import Testing

/// Runs blocking work (sockets) on a fresh thread of its own, never on the cooperative pool.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}

/// A started server on 127.0.0.1 with an ephemeral port.
func startServer(
    _ configure: (inout HTTPServerConfiguration) -> Void = { _ in },
    handler: @escaping HTTPHandler
) throws -> HTTPServer {
    var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
    configure(&configuration)
    let server = HTTPServer(configuration: configuration, handler: handler)
    try server.start()
    return server
}

/// Runs `body` against a started server, then shuts the server down.
func withServer<T>(
    _ configure: (inout HTTPServerConfiguration) -> Void = { _ in },
    handler: @escaping HTTPHandler,
    _ body: (HTTPServer) async throws -> T
) async throws -> T {
    let server = try startServer(configure, handler: handler)
    do {
        let result = try await body(server)
        await server.shutdown(grace: .seconds(1))
        return result
    } catch {
        await server.shutdown(grace: .zero)
        throw error
    }
}

/// A request for the tests' raw sockets.
func request(
    _ method: String = "GET", _ target: String, headers: [String] = [], body: String? = nil, version: String = "HTTP/1.1"
) -> String {
    var s = "\(method) \(target) \(version)\r\nHost: test\r\n"
    for h in headers { s += h + "\r\n" }
    if let body { s += "Content-Length: \(body.utf8.count)\r\n" }
    s += "\r\n"
    if let body { s += body }
    return s
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A response read off a raw socket.
struct TestResponse: Sendable {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
    var text: String { String(decoding: body, as: UTF8.self) }
    /// `error.code` of the server's JSON error body.
    var errorCode: String? {
        guard let o = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let e = o["error"] as? [String: Any]
        else { return nil }
        return e["code"] as? String
    }
}

/// A blocking TCP client with a receive timeout, for use on one thread only.
final class TestClient {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, receiveTimeout: Double = 5, sendBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
        var tv = timeval(tv_sec: Int(receiveTimeout), tv_usec: Int((receiveTimeout - Double(Int(receiveTimeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        if var size = sendBuffer {
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            // No close here: deinit runs even when a class's init throws after
            // every property is set, and closes fd — closing it twice could
            // close a descriptor another thread has just been given.
            throw TestFailure("connect: \(String(cString: strerror(errno)))")
        }
    }

    deinit { Glibc.close(fd) }

    /// Sends everything; false if the connection failed part-way.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            off += n
        }
        return true
    }

    @discardableResult
    func send(_ s: String) -> Bool { send(Array(s.utf8)) }

    /// One more chunk from the socket into the buffer; false on EOF, error or timeout.
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &chunk, chunk.count, 0)
        guard n > 0 else { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    /// Reads one response (Content-Length framed, or up to EOF without it; no body for HEAD).
    func readResponse(head isHead: Bool = false) throws -> TestResponse {
        var headEnd: Int?
        while true {
            headEnd = find([13, 10, 13, 10])
            if headEnd != nil { break }
            guard fill() else { throw TestFailure("connection ended before a response head (had \(buffer.count) bytes)") }
        }
        let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
        buffer.removeFirst(headEnd! + 4)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw TestFailure("bad status line: \(head)") }
        let headers = lines.map { line -> (name: String, value: String) in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : "")
        }
        let response = TestResponse(status: status, headers: headers, body: [])
        if status == 100 || isHead { return response }
        var body: [UInt8]
        if let cl = response.header("Content-Length").flatMap({ Int($0) }) {
            while buffer.count < cl {
                guard fill() else { throw TestFailure("connection ended inside a body") }
            }
            body = Array(buffer[0..<cl])
            buffer.removeFirst(cl)
        } else {
            while fill() {}
            body = buffer
            buffer = []
        }
        return TestResponse(status: status, headers: headers, body: body)
    }

    /// Reads until `marker` has arrived `count` times in total; returns everything read.
    func readUntil(_ marker: String, count: Int = 1) throws -> String {
        let m = Array(marker.utf8)
        while occurrences(of: m) < count {
            guard fill() else { throw TestFailure("connection ended waiting for \(marker)") }
        }
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Whether the server closed the connection (EOF or reset) within `seconds`;
    /// any data still arriving is dropped.
    /// `seconds` is a hang guard, not a margin: it returns as soon as the server closes.
    func closedByServer(within seconds: Double = 60) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        var chunk = [UInt8](repeating: 0, count: 65536)
        while Date() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ms = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
            guard poll(&p, 1, ms) > 0 else { continue }
            let n = recv(fd, &chunk, chunk.count, Int32(MSG_DONTWAIT))
            if n == 0 || (n < 0 && errno != EAGAIN) { return true }
        }
        return false
    }

    /// Reads (and drops) whatever still arrives until the connection ends. True when it
    /// ended with the server's FIN (recv gave 0), false on a reset, another error or the
    /// receive timeout.
    func endsWithOrderlyClose() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n > 0 { continue }
            if n < 0 && errno == EINTR { continue }
            return n == 0
        }
    }

    private func find(_ needle: [UInt8]) -> Int? {
        guard buffer.count >= needle.count else { return nil }
        for i in 0...(buffer.count - needle.count) where buffer[i..<(i + needle.count)].elementsEqual(needle) { return i }
        return nil
    }

    private func occurrences(of needle: [UInt8]) -> Int {
        guard buffer.count >= needle.count, !needle.isEmpty else { return 0 }
        var n = 0
        var i = 0
        while i <= buffer.count - needle.count {
            if buffer[i..<(i + needle.count)].elementsEqual(needle) {
                n += 1
                i += needle.count
            } else {
                i += 1
            }
        }
        return n
    }
}

/// Thread-safe notes a handler leaves for the test.
final class Probe: Sendable {
    private let events = Mutex<[String]>([])

    func note(_ e: String) { events.withLock { $0.append(e) } }
    var all: [String] { events.withLock { $0 } }
    func contains(_ e: String) -> Bool { all.contains(e) }

    /// Waits (without blocking a thread) until `e` has been noted; false on timeout.
    func wait(for e: String, timeout: Duration = .seconds(60)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !contains(e) {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }
}

/// Seconds elapsed while running `body`.
func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = Date()
    let r = try body()
    return (r, Date().timeIntervalSince(start))
}
