import Foundation
import QuellHTTP
import Testing

/// Header-read and idle timeouts; a stalled client never holds up the others.
@Suite struct TimeoutTests {
    static let ok: HTTPHandler = { _ in .text(.ok, "ok") }
    static func short(_ c: inout HTTPServerConfiguration) {
        c.headerReadTimeout = .milliseconds(400)
        c.idleTimeout = .milliseconds(400)
    }

    @Test func truncatedRequestIsClosedAfterHeaderTimeoutWhileOthersAreServed() async throws {
        try await withServer(Self.short, handler: Self.ok) { server in
            let port = server.port
            try await onThread {
                let stalled = try TestClient(port: port)
                stalled.send("GET /half HTTP/1.1\r\nHost: t\r\nX-Partial: ")
                // Another client is served at once, while the first one hangs.
                let (other, seconds) = try timed { () throws -> TestResponse in
                    let c = try TestClient(port: port)
                    c.send(request("GET", "/other"))
                    return try c.readResponse()
                }
                #expect(other.text == "ok")
                #expect(seconds < 0.3)
                let (timeout, waited) = try timed { try stalled.readResponse() }
                #expect(timeout.status == 408)
                #expect(timeout.errorCode == "timeout")
                #expect(waited < 10)
                #expect(stalled.closedByServer())
            }
        }
    }

    /// A client trickling one byte every 150 ms (never finishing the head in 400 ms) is cut
    /// off; a normal client meanwhile is served promptly.
    @Test func slowClientIsClosedOthersUnaffected() async throws {
        try await withServer(Self.short, handler: Self.ok) { server in
            let port = server.port
            async let slow = onThread { () throws -> (Int, Double) in
                let c = try TestClient(port: port)
                let text = Array(request("GET", "/slow").utf8)
                let start = Date()
                var sent = 0
                for b in text {
                    guard c.send([b]) else { break }
                    sent += 1
                    if c.closedByServer() { break }
                }
                return (sent, Date().timeIntervalSince(start))
            }
            async let normal = onThread { () throws -> [Double] in
                try (0..<5).map { _ in
                    try timed { () throws -> Int in
                        let c = try TestClient(port: port)
                        c.send(request("GET", "/fast"))
                        return try c.readResponse().status
                    }.1
                }
            }
            let (sent, elapsed) = try await slow
            let latencies = try await normal
            #expect(sent < 10)
            #expect(elapsed < 10)
            #expect(latencies.allSatisfy { $0 < 2 }, "served while the slow client trickles")
        }
    }

    @Test func idleKeepAliveConnectionIsClosed() async throws {
        try await withServer(Self.short, handler: Self.ok) { server in
            let port = server.port
            let (status, closed) = try await onThread { () throws -> (Int, Bool) in
                let c = try TestClient(port: port)
                c.send(request("GET", "/"))
                let s = try c.readResponse().status
                return (s, c.closedByServer())
            }
            #expect(status == 200)
            #expect(closed)
            // The server's thread deregisters just after closing the socket
            // (the deadline is a hang guard: the loop ends when the count drops).
            let deadline = ContinuousClock.now + .seconds(60)
            while server.connectionCount > 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
            #expect(server.connectionCount == 0)
        }
    }
}
