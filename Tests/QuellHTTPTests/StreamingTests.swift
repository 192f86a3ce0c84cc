import Foundation
import QuellHTTP
import Testing

/// Streamed responses and Server-Sent Events.
@Suite struct StreamingTests {
    @Test func sseDeliversEventsAndHandlerNoticesDisconnect() async throws {
        let probe = Probe()
        try await withServer(handler: { _ in
            .eventStream { writer in
                var i = 0
                do {
                    while true {
                        try await writer.send(ServerSentEvent(id: "\(i)", event: "tick", data: "n=\(i)\nline2"))
                        i += 1
                        try await Task.sleep(for: .milliseconds(20))
                    }
                } catch {
                    probe.note(writer.isConnected ? "still connected?" : "ended")
                }
            }
        }) { server in
            let port = server.port
            let text = try await onThread { () throws -> String in
                let c = try TestClient(port: port)
                c.send(request("GET", "/v1/events"))
                return try c.readUntil("\n\n", count: 4)
            }  // the client closes here
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(text.contains("Content-Type: text/event-stream\r\n"))
            #expect(text.contains("Connection: close\r\n"))
            #expect(!text.contains("Content-Length"))
            #expect(text.contains("\r\n\r\nid: 0\nevent: tick\ndata: n=0\ndata: line2\n\n"))
            #expect(text.contains("id: 3\nevent: tick\ndata: n=3\n"))
            #expect(await probe.wait(for: "ended", timeout: .seconds(60)))
        }
    }

    /// A stream waiting for something to send (not writing) still learns of the disconnect:
    /// its task is cancelled.
    @Test func idleStreamIsCancelledWhenClientLeaves() async throws {
        let probe = Probe()
        try await withServer(handler: { _ in
            .eventStream { writer in
                try await writer.sendComment("hello")
                do {
                    try await Task.sleep(for: .seconds(30))
                } catch is CancellationError {
                    probe.note("cancelled")
                }
            }
        }) { server in
            let port = server.port
            _ = try await onThread { () throws -> String in
                let c = try TestClient(port: port)
                c.send(request("GET", "/wait"))
                return try c.readUntil(": hello\n\n")
            }
            #expect(await probe.wait(for: "cancelled", timeout: .seconds(60)))
        }
    }

    @Test func streamEndsWhenProducerReturns() async throws {
        try await withServer(handler: { _ in
            .stream(.ok, headers: ["Content-Type": "text/plain"]) { writer in
                for i in 0..<3 { try await writer.write("part \(i)\n") }
            }
        }) { server in
            let port = server.port
            let r = try await onThread { () throws -> TestResponse in
                let c = try TestClient(port: port)
                c.send(request("GET", "/parts"))
                return try c.readResponse()  // no Content-Length: read to EOF
            }
            #expect(r.status == 200)
            #expect(r.text == "part 0\npart 1\npart 2\n")
            #expect(r.header("Connection") == "close")
        }
    }
}
