import FoundationEssentials
import Glibc
import Quell

/// The demo's HTTP client for the API it serves: one request per connection
/// (`Connection: close`), each on a thread of its own (blocking sockets never
/// run on Swift's cooperative pool).
struct DemoAPIClient: Sendable {
    /// Where to connect (the listening host, or loopback for a wildcard one).
    let host: String
    let port: Int
    let token: String

    struct Response: Sendable {
        var status: Int
        var body: JSONValue
        /// `error.code` of an error answer.
        var errorCode: String? { body["error"]?["code"]?.stringValue }
        /// The job of a job answer, or the one beside an error (409).
        var job: DemoJob? { DemoJob(body["job"] ?? body) }
    }

    /// `METHOD path` with a JSON body; any answer is returned, only a failure
    /// to talk to the API throws.
    func request(_ method: String, _ path: String, json: String? = nil) async throws(DemoFailure) -> Response {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nAuthorization: Bearer \(token)\r\n"
            + "Accept: application/json\r\nConnection: close\r\n"
        let body = Array((json ?? "").utf8)
        if json != nil { head += "Content-Type: application/json\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        let bytes = Array(head.utf8) + body
        let (host, port) = (host, port)
        let result = await onThreadOfItsOwn { () -> Result<[UInt8], DemoFailure> in
            Self.exchange(host: host, port: port, request: bytes)
        }
        let raw: [UInt8]
        switch result {
        case .success(let r): raw = r
        case .failure(let failure): throw failure
        }
        return try Self.parse(raw, what: "\(method) \(path)")
    }

    /// Connects, writes the request, reads until the answer is complete or the
    /// connection closes. The 60 s socket timeouts only end a hung demo.
    private static func exchange(host: String, port: Int, request: [UInt8]) -> Result<[UInt8], DemoFailure> {
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            return .failure(DemoFailure("cannot resolve \(host): \(String(cString: gai_strerror(rc)))"))
        }
        defer { freeaddrinfo(first) }
        var fd: Int32 = -1
        var lastError = "no address"
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let ai = next, fd < 0 {
            next = ai.pointee.ai_next
            let s = socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), ai.pointee.ai_protocol)
            guard s >= 0 else { continue }
            var tv = timeval(tv_sec: 60, tv_usec: 0)
            setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            if connect(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 {
                fd = s
            } else {
                lastError = String(cString: strerror(errno))
                close(s)
            }
        }
        guard fd >= 0 else { return .failure(DemoFailure("cannot connect to the api at \(host):\(port): \(lastError)")) }
        defer { close(fd) }
        var offset = 0
        while offset < request.count {
            let n = request.withUnsafeBytes { send(fd, $0.baseAddress! + offset, request.count - offset, Int32(MSG_NOSIGNAL)) }
            if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else {
                return .failure(DemoFailure("cannot send to the api: \(String(cString: strerror(errno)))"))
            }
        }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while !isComplete(answer) {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                answer += chunk[..<n]
            } else if n == 0 {
                break
            } else if errno != EINTR {
                return .failure(DemoFailure("no answer from the api: \(String(cString: strerror(errno)))"))
            }
        }
        return .success(answer)
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
            if parts.count == 2, parts[0].lowercased() == "content-length" { return Int(parts[1].trimmingSpaces()) }
        }
        return nil
    }

    private static func isComplete(_ bytes: [UInt8]) -> Bool {
        guard let end = headerEnd(bytes),
              let length = contentLength(String(decoding: bytes[..<end], as: UTF8.self)) else { return false }
        return bytes.count >= end + length
    }

    private static func parse(_ bytes: [UInt8], what: String) throws(DemoFailure) -> Response {
        guard let end = headerEnd(bytes) else { throw DemoFailure("\(what): the api closed the connection without an answer") }
        let header = String(decoding: bytes[..<end], as: UTF8.self)
        let statusLine = header.split(separator: "\r\n").first ?? ""
        let fields = statusLine.split(separator: " ")
        guard fields.count >= 2, let status = Int(fields[1]) else { throw DemoFailure("\(what): bad status line '\(statusLine)'") }
        var body = Array(bytes[end...])
        if let length = contentLength(header), body.count > length { body = Array(body.prefix(length)) }
        return Response(status: status, body: (try? JSONValue.parse(body)) ?? .null)
    }
}

/// The fields of a job (as the API answers it) that the story looks at.
struct DemoJob: Sendable {
    var id: String
    var status: String
    var key: String?
    var attempt: Int
    var worker: String?
    var startedAt: String?
    var percent: Double?
    var total: Int?
    var stage: String?
    var synced: Int?

    init?(_ json: JSONValue) {
        guard let id = json["id"]?.stringValue, let status = json["status"]?.stringValue else { return nil }
        self.id = id
        self.status = status
        key = json["key"]?.stringValue
        attempt = json["attempt"]?.intValue ?? 0
        worker = json["worker"]?.stringValue
        startedAt = json["started_at"]?.stringValue
        let progress = json["progress"]
        percent = progress?["percent"]?.doubleValue
        total = progress?["total"]?.intValue
        stage = progress?["stage"]?.stringValue
        synced = progress?["counters"]?["synced"]?.intValue
    }

    static let terminal: Set<String> = ["completed", "completed_with_errors", "failed", "cancelled", "timed_out"]
    var isTerminal: Bool { Self.terminal.contains(status) }
    var hasStarted: Bool { startedAt != nil }

    /// The pid part of the worker id (`host:pid:random`).
    var workerPID: pid_t? {
        guard let worker else { return nil }
        let parts = worker.split(separator: ":")
        return parts.count >= 3 ? pid_t(parts[parts.count - 2]) : nil
    }

    /// `running 35% (synced 70)`; `completed (synced 200)`.
    var summary: String {
        var text = status
        if let percent, status == "running" || status == "cancelling" { text += " \(decimal(percent, digits: 0))%" }
        if let synced { text += " (synced \(synced))" }
        return text
    }
}
