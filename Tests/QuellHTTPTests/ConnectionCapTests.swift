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
                #expect(extra.closedByServer(within: 1))
                // Held connections still work, and a freed slot is usable again.
                a.send(request("GET", "/"))
                #expect(try a.readResponse().status == 200)
            }
            // Free a slot: b is gone once the test client above is released.
            let deadline = ContinuousClock.now + .seconds(2)
            while server.connectionCount > 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            let again = try await onThread { () throws -> Int in
                let c = try TestClient(port: port)
                c.send(request("GET", "/"))
                return try c.readResponse().status
            }
            #expect(again == 200)
        }
    }
}
