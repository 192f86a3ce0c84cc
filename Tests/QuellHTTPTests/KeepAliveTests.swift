import Foundation
import QuellHTTP
import Testing

/// Persistent connections: keep-alive, pipelining, Connection: close, HTTP/1.0, many at once.
@Suite struct KeepAliveTests {
    /// Answers with the client's address (same address = same connection); `?ms=` delays.
    static let echoPeer: HTTPHandler = { req in
        if let ms = req.query["ms"].flatMap({ Int($0) }) { try? await Task.sleep(for: .milliseconds(ms)) }
        return .text(.ok, "\(req.path) from \(req.remoteAddress ?? "?")")
    }

    @Test func severalRequestsShareOneConnection() async throws {
        try await withServer(handler: Self.echoPeer) { server in
            let port = server.port
            let bodies = try await onThread { () throws -> [String] in
                let c = try TestClient(port: port)
                let texts = try (1...5).map { i in
                    c.send(request("GET", "/r\(i)"))
                    let r = try c.readResponse()
                    #expect(r.header("Connection") == nil)
                    return r.text
                }
                #expect(server.connectionCount == 1)
                return texts
            }
            let peers = Set(bodies.map { $0.split(separator: " ").last! })
            #expect(bodies.first == "/r1 from \(peers.first!)")
            #expect(peers.count == 1)
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await withServer(handler: Self.echoPeer) { server in
            let port = server.port
            let texts = try await onThread { () throws -> [String] in
                let c = try TestClient(port: port)
                // Three requests in one send; the first is the slowest.
                c.send(request("GET", "/first?ms=100") + request("GET", "/second") + request("GET", "/third?ms=10"))
                return try (0..<3).map { _ in try c.readResponse().text }
            }
            #expect(texts.map { String($0.split(separator: " ")[0]) } == ["/first", "/second", "/third"])
        }
    }

    @Test func connectionCloseIsHonoured() async throws {
        try await withServer(handler: Self.echoPeer) { server in
            let port = server.port
            let (response, closed) = try await onThread { () throws -> (TestResponse, Bool) in
                let c = try TestClient(port: port)
                c.send(request("GET", "/bye", headers: ["Connection: close"]))
                let r = try c.readResponse()
                return (r, c.closedByServer())
            }
            #expect(response.status == 200)
            #expect(response.header("Connection") == "close")
            #expect(closed)
        }
    }

    @Test func http10ClosesUnlessKeepAliveIsAsked() async throws {
        try await withServer(handler: Self.echoPeer) { server in
            let port = server.port
            try await onThread {
                let plain = try TestClient(port: port)
                plain.send("GET /a HTTP/1.0\r\n\r\n")
                let r1 = try plain.readResponse()
                #expect(r1.status == 200)
                #expect(r1.header("Connection") == "close")
                #expect(plain.closedByServer())

                let kept = try TestClient(port: port)
                for _ in 0..<2 {
                    kept.send("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                    let r = try kept.readResponse()
                    #expect(r.status == 200)
                    #expect(r.header("Connection") == "keep-alive")
                }
            }
        }
    }

    /// Sixty keep-alive connections held open at once are all served: nothing waits for a
    /// shared pool of threads.
    @Test func sixtyConcurrentKeepAliveConnections() async throws {
        try await withServer(handler: Self.echoPeer) { server in
            let port = server.port
            let served = try await onThread { () throws -> Int in
                let clients = try (0..<60).map { _ in try TestClient(port: port) }
                var ok = 0
                for round in 0..<2 {
                    for c in clients { c.send(request("GET", "/round\(round)")) }
                    for c in clients where try c.readResponse().status == 200 { ok += 1 }
                }
                #expect(server.connectionCount == 60)
                return ok
            }
            #expect(served == 120)
        }
    }
}
