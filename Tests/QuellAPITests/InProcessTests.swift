import QuellTestSupport
import Foundation
import Testing
import Quell
import QuellAPI
import QuellHTTP

/// An application's own task, as an app would define it.
private struct CountItems: TaskParameters {
    static let taskName = "app.count"
    var items: Int
    var source: String
}

/// The API hosted in an application's own process, next to its own worker on the
/// same store: a job enqueued over HTTP runs in-process and is watched over HTTP.
@Suite struct InProcessTests {
    /// The app's setup: one store, its task registered, a worker running, the API listening.
    private struct App {
        let store: JobStore
        let worker: Worker
        let running: Task<Void, Never>

        init(_ name: String) {
            let config = QuellConfiguration(redisURL: TestRedis.url, prefix: TestRedis.prefix(name))
            store = JobStore(configuration: config, clientName: name)
            let registry = TaskRegistry()
            registry.register(CountItems.self) { params, context in
                let key = context.store.keys.app("counted:\(context.job.tenant):\(params.source)")
                context.progress(stage: "counting", current: 0, total: params.items)
                for i in 0..<params.items {
                    try context.checkpoint()
                    try await context.store.redisCommand("SADD", key, "item-\(i)")
                    context.increment("counted")
                    context.progress(current: i + 1)
                }
                return .completed
            }
            worker = Worker(store: store, registry: registry, options: Worker.Options(concurrency: 2, progressInterval: 0.05))
            let worker = self.worker
            running = Task { await worker.run() }
        }

        func stop() async {
            running.cancel()
            await running.value
            store.close()
        }
    }

    private static func call(_ port: Int, _ method: String, _ target: String, body: String? = nil) async throws -> TestResponse {
        var headers = ["Authorization: Bearer app-token"]
        if body != nil { headers.append("Content-Type: application/json") }
        let bytes = requestText(method, target, headers: headers, body: body)
        return try await onThread {
            let c = try TestClient(port: port)
            c.send(bytes)
            return try c.readResponse()
        }
    }

    /// Polls `GET /v1/jobs/{id}` until the job is terminal; returns the last answer.
    private static func waitForEnd(_ port: Int, _ id: String) async throws -> TestResponse {
        let deadline = ContinuousClock.now + .seconds(60)  // a hang guard
        var last = try await call(port, "GET", "/v1/jobs/\(id)")
        while ContinuousClock.now < deadline {
            if let s = last.jobStatus, let status = JobStatus(rawValue: s), status.isTerminal { return last }
            try await Task.sleep(for: .milliseconds(20))
            last = try await call(port, "GET", "/v1/jobs/\(id)")
        }
        return last
    }

    @Test func aJobPostedOverHTTPRunsOnTheInProcessWorker() async throws {
        let app = App("inprocess-api")
        let api = QuellAPIServer(store: app.store, configuration: QuellAPIConfiguration(
            http: HTTPServerConfiguration(host: "127.0.0.1", port: 0), auth: APIAuth(tokens: ["app-token": "acme"])))
        try api.start()
        #expect(api.port > 0)
        do {
            let posted = try await Self.call(api.port, "POST", "/v1/jobs",
                                             body: #"{"type":"app.count","params":{"items":7,"source":"inbox-9"}}"#)
            #expect(posted.status == 202, "\(posted)")
            let id = try #require(posted.jobID)
            let done = try await Self.waitForEnd(api.port, id)
            #expect(done.status == 200)
            #expect(done.jobStatus == "completed", "\(done)")
            #expect(done.json["tenant"] == .string("acme"))
            #expect(done.json["worker"] == .string(app.worker.id))
            #expect(done.json["progress"]?["counters"]?["counted"] == .number(7))
            #expect(done.json["params"] == .object(["items": .number(7), "source": .string("inbox-9")]))
            // The handler's own writes, under the app's key.
            #expect(try await app.store.redisCommand("SCARD", app.store.keys.app("counted:acme:inbox-9")) == .integer(7))
            let health = try await Self.call(api.port, "GET", "/healthz")
            #expect(health.status == 200)
        } catch {
            await api.shutdown(grace: .seconds(1))
            await app.stop()
            throw error
        }
        await api.shutdown(grace: .seconds(1))
        await app.stop()
    }

    @Test func theHandlerServesFromTheApplicationsOwnServerBesideItsOwnRoutes() async throws {
        let app = App("inprocess-handler")
        let api = QuellAPIServer(store: app.store, configuration: QuellAPIConfiguration(
            http: HTTPServerConfiguration(host: "127.0.0.1", port: 0), auth: APIAuth(tokens: ["app-token": "acme"])))
        var router = HTTPRouter()
        router.get("/hello") { _ in .text(.ok, "hello from the app\n") }
        router.post("/v1/jobs", api.handler)
        router.get("/v1/jobs/:id", api.handler)
        let server = HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0), router: router)
        try server.start()
        do {
            let hello = try await Self.call(server.port, "GET", "/hello")
            #expect(hello.status == 200 && hello.text == "hello from the app\n")
            let posted = try await Self.call(server.port, "POST", "/v1/jobs", body: #"{"type":"app.count","params":{"items":3,"source":"s"}}"#)
            #expect(posted.status == 202, "\(posted)")
            let id = try #require(posted.jobID)
            let done = try await Self.waitForEnd(server.port, id)
            #expect(done.jobStatus == "completed", "\(done)")
            #expect(done.json["progress"]?["counters"]?["counted"] == .number(3))
        } catch {
            await server.shutdown(grace: .seconds(1))
            await api.shutdown(grace: .seconds(1))
            await app.stop()
            throw error
        }
        await server.shutdown(grace: .seconds(1))
        await api.shutdown(grace: .seconds(1))
        await app.stop()
    }
}
