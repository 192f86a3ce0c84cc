import Quell
import QuellHTTP

/// An error answer of the API: `{"error": {"code": "...", "message": "..."}}`, plus
/// `"job"` beside `"error"` for the 409s (`conflict`: the job holding the key;
/// `not_cancellable`, `not_pausable`, `not_resumable`: the job as it is).
struct APIFailure: Error, Sendable {
    var status: HTTPStatus
    var code: String
    var message: String
    var job: Job?

    init(_ status: HTTPStatus, _ code: String, _ message: String, job: Job? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.job = job
    }

    static func invalid(_ message: String) -> APIFailure { APIFailure(.badRequest, "invalid", message) }
    static func unauthorized(_ message: String) -> APIFailure { APIFailure(.unauthorized, "unauthorized", message) }

    /// The answer for a store error.
    init(_ error: QuellError) {
        switch error {
        case .conflict(let job):
            self.init(.conflict, "conflict", "job \(job.id) (\(job.status.rawValue)) already holds key '\(job.key ?? "")'", job: job)
        case .notCancellable(let job):
            self.init(.conflict, "not_cancellable", "job \(job.id) already ended as \(job.status.rawValue)", job: job)
        case .notPausable(let job):
            self.init(.conflict, "not_pausable", "job \(job.id) is \(job.status.rawValue): it cannot be paused", job: job)
        case .notResumable(let job):
            self.init(.conflict, "not_resumable", job.status == .pausing
                      ? "job \(job.id) is still pausing: resume it once it is paused"
                      : "job \(job.id) is \(job.status.rawValue): it cannot be resumed", job: job)
        case .notFound(let id):
            self.init(.notFound, "not_found", "no job \(id)")
        case .invalid(let message):
            self.init(.badRequest, "invalid", message)
        case .corrupt(let message):
            self.init(.internalServerError, "corrupt", "stored data is corrupt: \(message)")
        case .unavailable(let redis):
            self.init(.serviceUnavailable, "unavailable", "Redis is unavailable, retry later (\(redis))")
        }
    }

    var response: HTTPResponse {
        var w = JSONWriter(capacity: job == nil ? 128 : 768)
        w.beginObject()
        w.key("error")
        w.beginObject()
        w.key("code"); w.string(code)
        w.key("message"); w.string(message)
        w.endObject()
        if let job {
            w.key("job")
            job.write(to: &w)
        }
        w.endObject()
        var headers = HTTPHeaders()
        if status == .unauthorized { headers.add("WWW-Authenticate", "Bearer") }
        if status == .serviceUnavailable { headers.add("Retry-After", "1") }
        return .json(status, raw: w.bytes, headers: headers)
    }
}
