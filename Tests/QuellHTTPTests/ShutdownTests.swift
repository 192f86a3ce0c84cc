import Foundation
import QuellHTTP
import Testing

/// Graceful shutdown: in-flight requests finish, idle connections and streams end,
/// the listener closes; after the grace period handlers are cancelled.
@Suite struct ShutdownTests {
    @Test func inFlightRequestFinishesIdleConnectionCloses() async throws {
        let probe = Probe()
        let server = try startServer(handler: { req in
            if req.path == "/slow" {
                probe.note("started")
                try? await Task.sleep(for: .milliseconds(300))
                probe.note("finished")
            }
            return .text(.ok, "done \(req.path)")
        })
        let port = server.port
        async let client = onThread { () throws -> (TestResponse, Bool) in
            let idle = try TestClient(port: port)
            idle.send(request("GET", "/warm"))
            _ = try idle.readResponse()
            let busy = try TestClient(port: port)
            busy.send(request("GET", "/slow"))
            let r = try busy.readResponse()
            return (r, idle.closedByServer())
        }
        #expect(await probe.wait(for: "started"))
        let start = ContinuousClock.now
        await server.shutdown(grace: .seconds(5))
        let took = ContinuousClock.now - start
        let (response, idleClosed) = try await client
        #expect(response.status == 200)
        #expect(response.text == "done /slow")
        #expect(response.header("Connection") == "close")
        #expect(idleClosed)
        #expect(probe.contains("finished"))
        #expect(took < .seconds(4), "finished with the request, well before the 5 s grace")
        #expect(server.connectionCount == 0)
        let refused = try await onThread { () -> Bool in (try? TestClient(port: port)) == nil }
        #expect(refused)
    }

    @Test func shutdownEndsStreams() async throws {
        let probe = Probe()
        let server = try startServer(handler: { _ in
            .eventStream { writer in
                do {
                    while true {
                        try await writer.send(ServerSentEvent(data: "tick"))
                        try await Task.sleep(for: .milliseconds(20))
                    }
                } catch {
                    probe.note("ended")
                }
            }
        })
        let port = server.port
        async let closed = onThread { () throws -> Bool in
            let c = try TestClient(port: port)
            c.send(request("GET", "/events"))
            _ = try c.readUntil("\n\n", count: 2)
            probe.note("streaming")
            return c.closedByServer()
        }
        // Shut down only once the client is really receiving the stream.
        #expect(await probe.wait(for: "streaming"))
        let start = ContinuousClock.now
        await server.shutdown(grace: .seconds(5))
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(try await closed)
        #expect(await probe.wait(for: "ended", timeout: .seconds(60)))
    }

    @Test func afterGraceHandlersAreCancelled() async throws {
        let probe = Probe()
        let server = try startServer(handler: { _ in
            probe.note("started")
            do {
                try await Task.sleep(for: .seconds(30))
            } catch {
                probe.note("cancelled")
            }
            return .text(.ok, "late")
        })
        let port = server.port
        async let outcome = onThread { () throws -> Bool in
            let c = try TestClient(port: port)
            c.send(request("GET", "/stuck"))
            _ = try? c.readResponse()
            return c.closedByServer()
        }
        #expect(await probe.wait(for: "started"))
        let start = ContinuousClock.now
        await server.shutdown(grace: .milliseconds(200))
        let took = ContinuousClock.now - start
        #expect(took >= .milliseconds(200))
        #expect(took < .seconds(10), "bounded by the grace, not by the 30 s handler")
        #expect(probe.contains("cancelled"))
        #expect(try await outcome)
    }
}
