/// What the client API reports. Each case carries what the caller needs.
public enum QuellError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A non-terminal job already holds this dedupe key; here it is.
    case conflict(Job)
    /// The job is terminal and cannot be cancelled; here it is.
    case notCancellable(Job)
    /// The job cannot be paused (it is being cancelled, or ended); here it is.
    case notPausable(Job)
    /// The job cannot be resumed (it is still pausing, being cancelled, or
    /// ended); here it is.
    case notResumable(Job)
    /// No such job (or another tenant's job, which is the same to the caller).
    case notFound(String)
    /// The request is malformed; the message says what to fix.
    case invalid(String)
    /// Data in Redis is not what Quell wrote (missing fields, bad JSON, unknown status).
    case corrupt(String)
    /// Redis cannot be reached; retry later.
    case unavailable(RedisError)

    /// The error in one line, e.g. `job 01J… not found`.
    public var description: String {
        switch self {
        case .conflict(let job): return "conflict: job \(job.id) (\(job.status.rawValue)) holds key '\(job.key ?? "")'"
        case .notCancellable(let job): return "not cancellable: job \(job.id) is \(job.status.rawValue)"
        case .notPausable(let job): return "not pausable: job \(job.id) is \(job.status.rawValue)"
        case .notResumable(let job): return "not resumable: job \(job.id) is \(job.status.rawValue)"
        case .notFound(let id): return "job \(id) not found"
        case .invalid(let m): return m
        case .corrupt(let m): return "corrupt data: \(m)"
        case .unavailable(let e): return "Redis unavailable: \(e)"
        }
    }
}
