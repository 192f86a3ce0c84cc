import Quell
import QuellSystem

/// The drivers' blocking client of `quell api` (call it on threads of their
/// own): one request per connection; tokens per tenant and an admin one.
struct ChaosAPI: Sendable {
    let port: Int
    static let tenants = ["acme", "globex"]
    static let tokens = ["acme": "chaos-acme", "globex": "chaos-globex"]
    static let adminToken = "chaos-admin"
    /// QUELL_TOKENS for the api.
    static var tokenSetting: String { tokens.map { "\($1)=\($0)" }.sorted().joined(separator: ",") }

    struct Answer: Sendable {
        var status: Int
        var body: JSONValue
        var errorCode: String? { body["error"]?["code"]?.stringValue }
        /// The job of a job answer, or the one beside an error.
        var job: JSONValue? { body["job"] ?? (body["id"] != nil ? body : nil) }
        var jobStatus: String? { job?["status"]?.stringValue }
    }

    /// nil when the api could not be reached or gave no whole answer.
    func call(_ method: String, _ path: String, token: String, json: String? = nil) -> Answer? {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAuthorization: Bearer \(token)\r\n"
            + "Connection: close\r\n"
        let body = Array((json ?? "").utf8)
        if json != nil { head += "Content-Type: application/json\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        switch httpExchange(host: "127.0.0.1", port: port, request: Array(head.utf8) + body, timeout: 60) {
        case .success(let a): return Answer(status: a.status, body: (try? JSONValue.parse(a.body)) ?? .null)
        case .failure: return nil
        }
    }
}
