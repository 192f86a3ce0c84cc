import Foundation
import Glibc
import Quell

// A raw-socket HTTP/1.1 client for the API tests (adapted from
// Tests/QuellHTTPTests/TestSupport.swift). Blocking: use it through `onThread`.

/// Runs blocking work (sockets) on a fresh thread of its own, never on the cooperative pool.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A response read off a raw socket.
struct TestResponse: Sendable, CustomStringConvertible {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as JSON (`.null` when it is not JSON).
    var json: JSONValue { (try? JSONValue.parse(body)) ?? .null }

    /// `error.code` of an error body.
    var errorCode: String? { json["error"]?["code"]?.stringValue }

    /// The job of a job body, or of the `job` beside an error.
    var jobID: String? { (json["job"] ?? json)["id"]?.stringValue }
    var jobStatus: String? { (json["job"] ?? json)["status"]?.stringValue }

    var description: String { "\(status) \(text.prefix(300))" }
}

/// A blocking TCP client with a receive timeout, for one thread at a time.
final class TestClient: @unchecked Sendable {
    let fd: Int32
    private var buffer: [UInt8] = []

    /// `receiveTimeout` only ends a test that would hang; it is no margin (a
    /// `?wait=5` answer may take 5 s and more on a loaded machine).
    init(port: Int, receiveTimeout: Double = 60) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
        var tv = timeval(tv_sec: Int(receiveTimeout), tv_usec: Int((receiveTimeout - Double(Int(receiveTimeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
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

    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &chunk, chunk.count, 0)
        guard n > 0 else { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    /// Reads a response head; with `body`, also a Content-Length body (or up to EOF without one).
    func readResponse(body readBody: Bool = true) throws -> TestResponse {
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
        var response = TestResponse(status: status, headers: headers, body: [])
        guard readBody else { return response }
        if let cl = response.header("Content-Length").flatMap({ Int($0) }) {
            while buffer.count < cl {
                guard fill() else { throw TestFailure("connection ended inside a body") }
            }
            response.body = Array(buffer[0..<cl])
            buffer.removeFirst(cl)
        } else {
            while fill() {}
            response.body = buffer
            buffer = []
        }
        return response
    }

    /// Server-Sent Events blocks (text between blank lines) until `count` `job` events
    /// have arrived; comments are skipped. Throws on timeout or EOF.
    /// Heartbeat comments keep the socket busy, so `within` bounds the wait as well.
    func readEvents(_ count: Int, within seconds: Double = 10) throws -> [SSEEvent] {
        let deadline = Date().addingTimeInterval(seconds)
        var out: [SSEEvent] = []
        while out.count < count {
            guard Date() < deadline else { throw TestFailure("no more events after \(out.count) of \(count) in \(seconds) s") }
            guard let end = find([10, 10]) else {
                guard fill() else { throw TestFailure("stream ended or timed out after \(out.count) of \(count) events") }
                continue
            }
            let block = String(decoding: buffer[0..<end], as: UTF8.self)
            buffer.removeFirst(end + 2)
            if let event = SSEEvent(block) { out.append(event) }
        }
        return out
    }

    /// Reads SSE blocks until one is a comment containing `text`; returns the comment.
    func readComment(containing text: String, within seconds: Double = 10) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            guard Date() < deadline else { throw TestFailure("no comment '\(text)' in \(seconds) s") }
            guard let end = find([10, 10]) else {
                guard fill() else { throw TestFailure("stream ended waiting for a comment '\(text)'") }
                continue
            }
            let block = String(decoding: buffer[0..<end], as: UTF8.self)
            buffer.removeFirst(end + 2)
            if block.hasPrefix(":") && block.contains(text) { return block }
        }
    }

    private func find(_ needle: [UInt8]) -> Int? {
        guard buffer.count >= needle.count else { return nil }
        for i in 0...(buffer.count - needle.count) where buffer[i..<(i + needle.count)].elementsEqual(needle) { return i }
        return nil
    }
}

/// One `event: job` of the stream.
struct SSEEvent: Sendable {
    var id: String
    var event: String
    var data: String

    init?(_ block: String) {
        var id: String?
        var event: String?
        var data: [String] = []
        for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("id: ") { id = String(line.dropFirst(4)) }
            else if line.hasPrefix("event: ") { event = String(line.dropFirst(7)) }
            else if line.hasPrefix("data: ") { data.append(String(line.dropFirst(6))) }
        }
        guard let id, let event else { return nil }
        self.id = id
        self.event = event
        self.data = data.joined(separator: "\n")
    }

    var job: JSONValue { (try? JSONValue.parse(data)) ?? .null }
    var jobID: String { job["id"]?.stringValue ?? "" }
    var version: Int { job["version"]?.intValue ?? -1 }
    var tenant: String { job["tenant"]?.stringValue ?? "" }
    var status: String { job["status"]?.stringValue ?? "" }
}

/// A request's bytes.
func requestText(_ method: String, _ target: String, headers: [String] = [], body: String? = nil) -> String {
    var s = "\(method) \(target) HTTP/1.1\r\nHost: test\r\n"
    for h in headers { s += h + "\r\n" }
    if let body { s += "Content-Length: \(body.utf8.count)\r\n" }
    s += "\r\n"
    if let body { s += body }
    return s
}
