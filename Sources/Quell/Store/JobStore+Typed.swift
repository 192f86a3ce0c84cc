import FoundationEssentials

extension EnqueueRequest {
    /// A request for a typed task: its type name, queue, attempts and timeout
    /// from `P.taskName` and `P.defaults`, its params encoded with `JSONEncoder`
    /// (keys sorted, so the same value always stores as the same text).
    public init<P: TaskParameters>(_ params: P, tenant: String = "default", key: String? = nil, queue: String? = nil,
                                   maxAttempts: Int? = nil, timeout: TaskDefaults.Timeout? = nil,
                                   headers: [String: String] = [:], id: String? = nil) throws(QuellError) {
        let defaults = P.defaults
        self.init(type: P.taskName, tenant: tenant, key: key, queue: queue ?? defaults.queue,
                  maxAttempts: maxAttempts ?? defaults.maxAttempts, id: id)
        self.headers = headers
        switch timeout ?? defaults.timeout {
        case .adaptive: self.timeout = nil
        case .fixed(let seconds): self.timeout = seconds
        }
        let text = try Self.canonicalJSON(params, what: "\(P.taskName) params")
        guard text.hasPrefix("{") else { throw .invalid("\(P.taskName) params must encode as a JSON object, got \(text.prefix(40))") }
        self.params = text
    }
}

extension JobStore {
    /// Enqueues a typed task and returns the queued job.
    ///
    /// Throws `QuellError.conflict(job)` when a non-terminal job already holds
    /// `key` for `tenant` — `job` is that one (its status and progress), so a
    /// "sync already running" answer can show how far it got — and
    /// `.invalid` for a bad request, `.unavailable` when Redis cannot be reached.
    @discardableResult
    public func enqueue<P: TaskParameters>(_ params: P, key: String? = nil, tenant: String = "default", queue: String? = nil,
                                           maxAttempts: Int? = nil, timeout: TaskDefaults.Timeout? = nil,
                                           headers: [String: String] = [:]) async throws(QuellError) -> Job {
        try await enqueue(EnqueueRequest(params, tenant: tenant, key: key, queue: queue, maxAttempts: maxAttempts,
                                         timeout: timeout, headers: headers))
    }
}

extension EnqueueRequest {
    /// `value` as compact JSON with sorted keys (`JSONEncoder`): the same value
    /// always stores as the same text. Params and checkpoint cursors use it.
    static func canonicalJSON<V: Encodable>(_ value: V, what: String) throws(QuellError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw .invalid("cannot encode \(what): \(error)")
        }
    }
}
