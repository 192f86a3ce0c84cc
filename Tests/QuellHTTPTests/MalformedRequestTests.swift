import Foundation
import QuellHTTP
import Testing

/// Garbage and unsupported versions: JSON error, close, and the server carries on.
@Suite struct MalformedRequestTests {
    static let ok: HTTPHandler = { _ in .text(.ok, "ok") }

    @Test func garbageGets400AndCloseAndServerCarriesOn() async throws {
        try await withServer(handler: Self.ok) { server in
            let port = server.port
            try await onThread {
                for garbage in ["\u{16}\u{3}\u{1}\u{2}\u{0}hello", "NOT HTTP AT ALL\r\n\r\n", "GET / HTTP/1.1\r\nHost: t\r\nBroken header\r\n\r\n"] {
                    let c = try TestClient(port: port)
                    c.send(garbage)
                    let r = try c.readResponse()
                    #expect(r.status == 400, "\(garbage.debugDescription)")
                    #expect(r.errorCode == "bad_request")
                    #expect(r.header("Connection") == "close")
                    #expect(r.header("Content-Type") == "application/json")
                    #expect(c.closedByServer())
                }
                let next = try TestClient(port: port)
                next.send(request("GET", "/"))
                #expect(try next.readResponse().text == "ok")
            }
        }
    }

    /// Two `Authorization` fields reach no handler: 400 and close, like two `Host`s.
    @Test func twoAuthorizationFieldsAre400BeforeTheHandler() async throws {
        let probe = Probe()
        try await withServer(handler: { req in
            probe.note("handler \(req.header("Authorization") ?? "")")
            return .text(.ok, "ok")
        }) { server in
            let port = server.port
            let (r, closed) = try await onThread { () throws -> (TestResponse, Bool) in
                let c = try TestClient(port: port)
                c.send(request("GET", "/", headers: ["Authorization: Bearer first", "Authorization: Bearer second"]))
                let r = try c.readResponse()
                return (r, c.closedByServer())
            }
            #expect(r.status == 400 && r.errorCode == "bad_request", "\(r.status) \(r.text)")
            #expect(r.text.contains("Authorization"))
            #expect(r.header("Connection") == "close")
            #expect(closed)
            #expect(probe.all.isEmpty)
        }
    }

    @Test func garbageAfterAGoodRequestOnTheSameConnection() async throws {
        try await withServer(handler: Self.ok) { server in
            let port = server.port
            let (first, second) = try await onThread { () throws -> (Int, Int) in
                let c = try TestClient(port: port)
                c.send(request("GET", "/") + "\u{1}\u{2}\u{3}\r\n\r\n")
                return (try c.readResponse().status, try c.readResponse().status)
            }
            #expect(first == 200)
            #expect(second == 400)
        }
    }

    @Test func unsupportedVersionIs505() async throws {
        try await withServer(handler: Self.ok) { server in
            let port = server.port
            let r = try await onThread { () throws -> TestResponse in
                let c = try TestClient(port: port)
                c.send("GET / HTTP/2.0\r\nHost: t\r\n\r\n")
                return try c.readResponse()
            }
            #expect(r.status == 505)
            #expect(r.errorCode == "http_version_not_supported")
        }
    }
}
