import Foundation
import QuellHTTP
import Testing

/// The connection cap: one over it gets 503 `too_many_connections` and a close.
@Suite struct ConnectionCapTests {
    @Test func extraConnectionGets503() async throws {
        try await withServer({ $0.maxConnections = 2 }, handler: { _ in .text(.ok, "ok") }) { server in
            let port = server.port
            try await onThread {
                let a = try TestClient(port: port)
                let b = try TestClient(port: port)
                for c in [a, b] {
                    c.send(request("GET", "/"))
                    #expect(try c.readResponse().status == 200)
                }
                let extra = try TestClient(port: port)
                extra.send(request("GET", "/"))
                let r = try extra.readResponse()
                #expect(r.status == 503)
                #expect(r.errorCode == "too_many_connections")
                #expect(r.header("Connection") == "close")
                #expect(extra.closedByServer())
                // Held connections still work, and a freed slot is usable again.
                a.send(request("GET", "/"))
                #expect(try a.readResponse().status == 200)
            }
            // Free a slot: b is gone once the test client above is released
            // (the deadline is a hang guard: the loop ends when the count drops).
            let deadline = ContinuousClock.now + .seconds(60)
            while server.connectionCount > 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            let again = try await onThread { () throws -> Int in
                let c = try TestClient(port: port)
                c.send(request("GET", "/"))
                return try c.readResponse().status
            }
            #expect(again == 200)
        }
    }

    /// A connection refused at the cap whose client writes a whole body before reading
    /// still reads the 503 and an orderly close: refusals linger too (on one shared thread).
    @Test func refusedClientWritingABodyFirstStillReads503() async throws {
        try await withServer({
            $0.maxConnections = 1
            $0.lingerTimeout = .seconds(60)  // only the client's close ends the drain
        }, handler: { _ in .text(.ok, "ok") }) { server in
            let port = server.port
            let (sent, response, orderly) = try await onThread { () throws -> (Bool, Result<TestResponse, any Error>, Bool) in
                let held = try TestClient(port: port)
                held.send(request("GET", "/"))
                _ = try held.readResponse()
                let extra = try TestClient(port: port, receiveTimeout: 30)
                let size = 4 * 1024 * 1024
                let head = "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: \(size)\r\n\r\n"
                let sent = extra.send(Array(head.utf8) + [UInt8](repeating: 0x62, count: size))
                let response = Result { try extra.readResponse() }
                return (sent, response, extra.endsWithOrderlyClose())
            }
            #expect(sent, "writing the body failed: the refusal closed with unread data")
            let r = try response.get()
            #expect(r.status == 503 && r.errorCode == "too_many_connections")
            #expect(orderly, "the refusal ended with a reset")
        }
    }
}
