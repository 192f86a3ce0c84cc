import QuellTestSupport
import Foundation
import Quell
import QuellAPI
import QuellHTTP

/// An API server on an ephemeral port over a store with a key prefix of its own.
/// Tokens: `tok-acme` → acme, `tok-beta` → beta, `tok-admin` the admin.
final class APIHarness: Sendable {
    static let tokens = ["tok-acme": "acme", "tok-beta": "beta"]
    static let admin = "tok-admin"

    let store: JobStore
    let api: QuellAPIServer
    var port: Int { api.port }

    init(_ name: String, redisURL: RedisURL? = nil, auth: APIAuth? = nil, staleAfter: Double = 10,
         clock: any QuellClock = SystemClock(), configure: (inout QuellAPIConfiguration) -> Void = { _ in }) throws {
        var config = QuellConfiguration(redisURL: redisURL ?? TestRedis.url, prefix: TestRedis.prefix(name))
        config.staleAfter = staleAfter
        store = JobStore(redis: RedisClient(url: config.redisURL, options: RedisOptions(connectTimeout: 1, commandTimeout: 5, clientName: name)),
                         configuration: config, clock: clock)
        var apiConfig = QuellAPIConfiguration(
            http: HTTPServerConfiguration(host: "127.0.0.1", port: 0),
            auth: auth ?? APIAuth(tokens: Self.tokens, adminToken: Self.admin))
        apiConfig.eventsBlockSeconds = 0.5
        configure(&apiConfig)
        api = QuellAPIServer(store: store, configuration: apiConfig)
        try api.start()
    }

    func stop() async {
        await api.shutdown(grace: .seconds(1))
        store.close()
    }

    /// One request on a fresh connection. `body` is sent as `application/json` unless
    /// `contentType` says otherwise (nil: no Content-Type header).
    func call(_ method: String, _ target: String, token: String? = "tok-acme", body: String? = nil,
              contentType: String? = "application/json", headers: [String] = []) async throws -> TestResponse {
        var h = headers
        if let token { h.append("Authorization: Bearer \(token)") }
        if body != nil, let contentType { h.append("Content-Type: \(contentType)") }
        let bytes = requestText(method, target, headers: h, body: body)
        let port = self.port
        return try await onThread {
            let c = try TestClient(port: port)
            c.send(bytes)
            return try c.readResponse()
        }
    }

    /// `POST /v1/jobs` as `token`; returns the response.
    func enqueue(_ body: String = #"{"type":"demo.sync"}"#, token: String = "tok-acme") async throws -> TestResponse {
        try await call("POST", "/v1/jobs", token: token, body: body)
    }

    /// Enqueues through the API and returns the new job's id (fails the test otherwise).
    func enqueueID(_ body: String = #"{"type":"demo.sync"}"#, token: String = "tok-acme") async throws -> String {
        let r = try await enqueue(body, token: token)
        guard r.status == 202, let id = r.jobID else { throw TestFailure("enqueue answered \(r)") }
        return id
    }

    /// Starts every queued job of the default queue as worker `w1`; returns them by id.
    func startAll(worker: String = "w1") async throws -> [String: StartedJob] {
        let started = try await store.start(worker: worker, leasePrefix: "\(worker)#\(UInt32.random(in: 0...UInt32.max))#",
                                            queues: ["default"], count: 100).started
        return Dictionary(uniqueKeysWithValues: started.map { ($0.job.id, $0) })
    }
}

/// Runs `body` with a started harness, stopping it afterwards whatever happens.
func withAPI<T>(_ name: String, redisURL: RedisURL? = nil, auth: APIAuth? = nil, staleAfter: Double = 10,
                clock: any QuellClock = SystemClock(), configure: (inout QuellAPIConfiguration) -> Void = { _ in },
                _ body: (APIHarness) async throws -> T) async throws -> T {
    let h = try APIHarness(name, redisURL: redisURL, auth: auth, staleAfter: staleAfter, clock: clock, configure: configure)
    do {
        let result = try await body(h)
        await h.stop()
        return result
    } catch {
        await h.stop()
        throw error
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return false
}
