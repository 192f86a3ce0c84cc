import Quell
import QuellHTTP

/// Settings of the API process beyond the store's.
public struct QuellAPIConfiguration: Sendable {
    /// Address, limits and timeouts of the HTTP server.
    public var http: HTTPServerConfiguration
    /// Bearer tokens and the tenants they map to.
    public var auth: APIAuth
    /// Interval of the comment line that keeps idle event streams open.
    public var sseHeartbeat: Duration = .seconds(15)
    /// How long the events follower's `XREAD` blocks.
    public var eventsBlockSeconds: Double = 2
    /// The longest `?wait=` a cancel may ask for.
    public var maxCancelWaitSeconds: Double = 300
    /// How often a waiting cancel re-reads the job.
    public var cancelPollInterval: Duration = .milliseconds(20)
    /// Run the reaper (stuck jobs, dead workers' claims) and the janitor
    /// (finished jobs past retention) while serving, as `quell api` does.
    /// Off by default: a `Worker` in the same process runs its own, which
    /// knows the jobs its process runs and never judges them — turn it on
    /// only in a process that runs no `Worker`. Any number of reapers across
    /// processes is safe.
    public var runReaper = false
    /// Where the reaper and the janitor log what they did (at notice) and
    /// their failures (at warning).
    public var logger: QuellLogger = .none
    /// Serve the web dashboard at `GET /` (with `/app.js`, `/app.css`,
    /// `/favicon.svg`): one page on the public API, compiled into the binary.
    /// Turn it off when an application serves its own page there.
    public var serveDashboard = true

    /// Settings with the defaults above.
    public init(http: HTTPServerConfiguration = HTTPServerConfiguration(), auth: APIAuth) {
        self.http = http
        self.auth = auth
    }
}

/// The v1 HTTP API (DESIGN.md "HTTP API (v1)") on a `JobStore`: routes, tokens and
/// tenants, the error shape, the event stream, health and metrics.
///
/// Every `/v1` route needs `Authorization: Bearer <token>` (401 otherwise) unless
/// `auth.noAuth`; `/healthz` and `/metrics` are open (probes and scrapers).
///
/// To host it in an application's own process, next to its own worker:
///
///     let store = JobStore(configuration: try QuellConfiguration.fromEnvironment())
///     let api = QuellAPIServer(store: store, configuration: QuellAPIConfiguration(
///         http: HTTPServerConfiguration(host: "127.0.0.1", port: 8080), auth: APIAuth(tokens: ["secret": "acme"])))
///     try api.start()                      // listening once it returns
///     let worker = Worker(store: store, registry: registry)
///     await worker.run()                   // until cancelled
///     await api.shutdown()
///     store.close()
///
/// or serve its routes from a server of the application's own through `handler`.
public final class QuellAPIServer: Sendable {
    /// The store every route reads and writes.
    public let store: JobStore
    /// The settings it was created with.
    public let configuration: QuellAPIConfiguration
    let metrics = APIMetrics()
    let params: ParamsCache
    let follower: EventFollower
    private let server: HTTPServer
    private let reaper: Reaper?
    private let janitor: Janitor?

    /// The API on `store`; call `start()` to listen (or serve `handler` yourself).
    public init(store: JobStore, configuration: QuellAPIConfiguration) {
        self.store = store
        self.configuration = configuration
        let params = ParamsCache(store: store)
        self.params = params
        self.follower = EventFollower(store: store, params: params, block: configuration.eventsBlockSeconds)
        let routes = Routes(store: store, configuration: configuration, metrics: metrics, params: params, follower: follower)
        let routed = routes.router.handler
        let metrics = self.metrics
        let handler: HTTPHandler = { request in
            let response = await routed(request)
            metrics.countRequest(status: response.status.code)
            return response
        }
        self.handler = handler
        self.server = HTTPServer(configuration: configuration.http, handler: handler)
        let logger = configuration.logger
        let log: @Sendable (String) -> Void = { message in
            logger.log(message.contains("sweep failed") ? .warning : .notice, message, [:])
        }
        reaper = configuration.runReaper ? Reaper(store: store, interval: store.configuration.reaperInterval, log: log) : nil
        janitor = configuration.runReaper ? Janitor(store: store, log: log) : nil
    }

    /// Every route of the API as one handler (`/v1/…`, `/healthz`, `/metrics`,
    /// and the dashboard's `/`, `/app.js`, `/app.css`, `/favicon.svg` unless
    /// `serveDashboard` is off; 404 for any other path), counted in `/metrics` like the server's own
    /// requests. For an application that serves it from an `HTTPServer` or
    /// `HTTPRouter` of its own, beside its own routes, instead of `start()`
    /// (call `shutdown()` all the same, to end event streams).
    public let handler: HTTPHandler

    /// Binds and starts serving (and the reaper and janitor, with `runReaper`);
    /// returns once listening. Resolves the host on the calling thread: call it
    /// from a thread of your own, or give a numeric address.
    public func start() throws(HTTPServerError) {
        try server.start()
        reaper?.start()
        janitor?.start()
    }

    /// The bound port (the real one when configured with port 0); 0 before `start()`.
    public var port: Int { server.port }

    /// Stops the reaper and janitor, stops accepting, ends event streams, lets
    /// requests in flight finish (up to `grace`). The store is the caller's to
    /// close (`store.close()`), after this returns.
    public func shutdown(grace: Duration = .seconds(10)) async {
        await reaper?.shutdown()
        await janitor?.shutdown()
        follower.close()
        await server.shutdown(grace: grace)
    }
}

/// The router and its handlers.
struct Routes: Sendable {
    let store: JobStore
    let configuration: QuellAPIConfiguration
    let metrics: APIMetrics
    let params: ParamsCache
    let follower: EventFollower

    typealias Handler = @Sendable (HTTPRequest, APICaller) async throws -> HTTPResponse

    var router: HTTPRouter {
        var r = HTTPRouter()
        r.post("/v1/jobs", authenticated(enqueue))
        r.get("/v1/jobs", authenticated(list))
        r.get("/v1/jobs/:id", authenticated(show))
        r.post("/v1/jobs/:id/cancel", authenticated(cancel))
        r.post("/v1/jobs/:id/pause", authenticated(pause))
        r.post("/v1/jobs/:id/resume", authenticated(resume))
        r.post("/v1/cleanup", authenticated(cleanup))
        r.get("/v1/stats", authenticated(stats))
        let events = EventsEndpoint(store: store, follower: follower, params: params, heartbeat: configuration.sseHeartbeat)
        r.get("/v1/events", authenticated(events.handle))
        r.get("/healthz") { _ in await health() }
        r.get("/metrics") { _ in await metricsText() }
        if configuration.serveDashboard {
            Dashboard(asksForToken: !configuration.auth.noAuth, staleSeconds: store.configuration.staleAfter).add(to: &r)
        }
        return r
    }

    /// Resolves the caller (401 on failure), runs the handler and turns its errors into answers.
    private func authenticated(_ handler: @escaping Handler) -> HTTPHandler {
        let auth = configuration.auth
        return { request in
            let caller: APICaller
            switch auth.caller(for: request) {
            case .success(let c): caller = c
            case .failure(let f): return f.response
            }
            do {
                return try await handler(request, caller)
            } catch let failure as APIFailure {
                return failure.response
            } catch let error as QuellError {
                return APIFailure(error).response
            } catch {
                return APIFailure(.internalServerError, "internal_error", "\(error)").response
            }
        }
    }

    private static func job(_ status: HTTPStatus, _ job: Job) -> HTTPResponse {
        .json(status, raw: job.jsonBytes)
    }

    // MARK: - /v1/jobs

    /// `POST /v1/jobs` → 202 + job; 409 `conflict` + the job holding the key.
    @Sendable func enqueue(_ request: HTTPRequest, _ caller: APICaller) async throws -> HTTPResponse {
        _ = try RequestDecoding.query(request, allowed: [])
        let enqueue = try RequestDecoding.enqueueRequest(request, caller: caller)
        do {
            let job = try await store.enqueue(enqueue)
            params.remember(job)
            metrics.countEnqueued()
            return Self.job(.accepted, job)
        } catch {
            guard case .conflict(let holder) = error else { throw error }
            metrics.countConflict()
            throw APIFailure(.conflict(await params.fill(holder)))
        }
    }

    /// `GET /v1/jobs/{id}` → 200 job; 404 for no such job and for another tenant's.
    @Sendable func show(_ request: HTTPRequest, _ caller: APICaller) async throws -> HTTPResponse {
        _ = try RequestDecoding.query(request, allowed: [])
        let id = request.pathParameters["id"] ?? ""
        return Self.job(.ok, try await store.job(id: id, tenant: caller.scope))
    }

    /// `GET /v1/jobs?status=&key=&limit=&cursor=` → `{jobs, next_cursor}`, newest first.
    @Sendable func list(_ request: HTTPRequest, _ caller: APICaller) async throws -> HTTPResponse {
        let q = try RequestDecoding.query(request, allowed: ["status", "key", "limit", "cursor"])
        var status: JobStatus?
        if let s = q["status"] {
            guard let parsed = JobStatus(rawValue: s) else {
                throw APIFailure.invalid("status must be one of \(JobStatus.displayOrder.map(\.rawValue).joined(separator: ", "))")
            }
            status = parsed
        }
        if let key = q["key"], key.isEmpty { throw APIFailure.invalid("key must not be empty") }
        var limit = 50
        if let l = q["limit"] {
            guard let n = Int(l), (1...1000).contains(n) else { throw APIFailure.invalid("limit must be an integer from 1 to 1000") }
            limit = n
        }
        let cursor = q["cursor"].flatMap { $0.isEmpty ? nil : $0 }
        let page = try await store.jobs(status: status, key: q["key"], tenant: caller.scope, limit: limit, cursor: cursor)
        var w = JSONWriter(capacity: 256 + 700 * page.jobs.count)
        w.beginObject()
        w.key("jobs")
        w.beginArray()
        for job in page.jobs { job.write(to: &w) }
        w.endArray()
        w.key("next_cursor"); w.string(page.nextCursor)
        w.endObject()
        return .json(.ok, raw: w.bytes)
    }

    /// `POST /v1/jobs/{id}/cancel[?wait=SECONDS]` → 200 job (`cancelled`, or `cancelling`
    /// when not waited or the wait ended first); 404; 409 `not_cancellable` + job.
    /// The body may be empty, `{}` or `{"reason": "..."}`.
    @Sendable func cancel(_ request: HTTPRequest, _ caller: APICaller) async throws -> HTTPResponse {
        let q = try RequestDecoding.query(request, allowed: ["wait"])
        var wait = 0.0
        if let text = q["wait"] {
            wait = try RequestDecoding.seconds(text, name: "wait", range: 0...configuration.maxCancelWaitSeconds)
        }
        var reason = "user"
        if let body = try RequestDecoding.jsonObject(request) {
            try RequestDecoding.rejectUnknownFields(body, allowed: ["reason"])
            switch body["reason"] {
            case nil, .null?: break
            case .string(let r)? where !r.isEmpty && r.utf8.count <= 200: reason = r
            default: throw APIFailure.invalid("field 'reason' must be a string of 1-200 bytes")
            }
        }
        let id = request.pathParameters["id"] ?? ""
        let requestedAt = ContinuousClock.now
        var job: Job
        do {
            job = try await store.cancel(id: id, tenant: caller.scope, reason: reason)
        } catch {
            guard case .notCancellable(let ended) = error else { throw error }
            throw APIFailure(.notCancellable(await params.fill(ended)))
        }
        if job.status == .cancelling && wait > 0 {
            let deadline = requestedAt + .milliseconds(Int(wait * 1000))
            while job.status == .cancelling && ContinuousClock.now < deadline {
                do {
                    try await Task.sleep(for: min(configuration.cancelPollInterval, ContinuousClock.now.duration(to: deadline)))
                } catch {
                    break  // the server is shutting down: answer with what we know
                }
                job = try await store.job(id: id, tenant: caller.scope)
            }
            if job.status == .cancelled {
                let elapsed = requestedAt.duration(to: .now)
                metrics.observeCancelLatency(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            }
        }
        if job.params == nil { job = await params.fill(job) }
        metrics.countCancel(answered: job.status)
        return Self.job(.ok, job)
    }

    /// `POST /v1/jobs/{id}/pause` → 200 job (`paused` for a queued job,
    /// `pausing` for a running one until its worker reaches a checkpoint);
    /// repeating answers the same; 404; 409 `not_pausable` + job when it is
    /// being cancelled or ended. The body may be empty or `{}`.
    @Sendable func pause(_ request: HTTPRequest, _ caller: APICaller) async throws -> HTTPResponse {
        try await pauseOrResume(request, caller) { id, tenant throws(QuellError) in try await store.pause(id: id, tenant: tenant) }
    }

    /// `POST /v1/jobs/{id}/resume` → 200 job (`queued`: back in its queue, to
    /// continue from its cursor); a queued or running job answers as it is;
    /// 404; 409 `not_resumable` + job while it is pausing, being cancelled, or
    /// ended. The body may be empty or `{}`.
    @Sendable func resume(_ request: HTTPRequest, _ caller: APICaller) async throws -> HTTPResponse {
        try await pauseOrResume(request, caller) { id, tenant throws(QuellError) in try await store.resume(id: id, tenant: tenant) }
    }

    private func pauseOrResume(_ request: HTTPRequest, _ caller: APICaller,
                               _ act: (String, String?) async throws(QuellError) -> Job) async throws -> HTTPResponse {
        _ = try RequestDecoding.query(request, allowed: [])
        if let body = try RequestDecoding.jsonObject(request) {
            try RequestDecoding.rejectUnknownFields(body, allowed: [])
        }
        let id = request.pathParameters["id"] ?? ""
        do {
            var job = try await act(id, caller.scope)
            if job.params == nil { job = await params.fill(job) }
            return Self.job(.ok, job)
        } catch {
            switch error {
            case .notPausable(let job): throw APIFailure(.notPausable(await params.fill(job)))
            case .notResumable(let job): throw APIFailure(.notResumable(await params.fill(job)))
            default: throw error
            }
        }
    }

    // MARK: - Cleanup and stats

    /// `POST /v1/cleanup` → `{cleaned, jobs}`: the caller's stuck jobs closed (or requeued) now.
    @Sendable func cleanup(_ request: HTTPRequest, _ caller: APICaller) async throws -> HTTPResponse {
        _ = try RequestDecoding.query(request, allowed: [])
        if let body = try RequestDecoding.jsonObject(request) {
            try RequestDecoding.rejectUnknownFields(body, allowed: [])
        }
        let result = try await store.cleanup(tenant: caller.scope)
        return .json(.ok, raw: result.json(includeWorkersGone: false))
    }

    /// `GET /v1/stats` → `{counts, queues, workers}`; counts are the caller's tenant's.
    @Sendable func stats(_ request: HTTPRequest, _ caller: APICaller) async throws -> HTTPResponse {
        _ = try RequestDecoding.query(request, allowed: [])
        return .json(.ok, raw: try await store.stats(tenant: caller.scope).json.utf8)
    }

    // MARK: - Health and metrics

    /// `GET /healthz` → 200 `{"status":"ok"}`, or 503 when Redis does not answer PING.
    func health() async -> HTTPResponse {
        do {
            try await store.ping()
            return .json(.ok, raw: #"{"status":"ok"}"#.utf8)
        } catch {
            var w = JSONWriter()
            w.beginObject()
            w.key("status"); w.string("unavailable")
            w.key("error")
            w.beginObject()
            w.key("code"); w.string("unavailable")
            w.key("message"); w.string("Redis is unavailable: \(error)")
            w.endObject()
            w.endObject()
            return .json(.serviceUnavailable, raw: w.bytes, headers: ["Retry-After": "1"])
        }
    }

    /// `GET /metrics` → Prometheus text. Still 200 when Redis is down (`quell_redis_up 0`).
    func metricsText() async -> HTTPResponse {
        let stats = try? await store.stats(tenant: nil)
        return .text(.ok, metrics.render(stats: stats, sseClients: follower.subscriberCount),
                     headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"])
    }
}
