import FoundationEssentials
import Glibc
import Quell
import QuellSystem

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
        let result = await onThreadOfItsOwn { httpExchange(host: host, port: port, request: bytes) }
        switch result {
        case .success(let answer):
            return Response(status: answer.status, body: (try? JSONValue.parse(answer.body)) ?? .null)
        case .failure(let failure):
            throw DemoFailure("\(method) \(path): \(failure.description)")
        }
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
