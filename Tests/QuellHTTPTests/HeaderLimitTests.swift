import Foundation
import QuellHTTP
import Testing

/// Header limits: too many fields, too large a head. Both 431, then close.
@Suite struct HeaderLimitTests {
    static let ok: HTTPHandler = { _ in .text(.ok, "ok") }

    func answer(_ port: Int, to text: String) async throws -> (TestResponse, Bool) {
        try await onThread { () throws -> (TestResponse, Bool) in
            let c = try TestClient(port: port)
            c.send(text)  // may fail part-way once the server has answered and closed
            let r = try c.readResponse()
            return (r, c.closedByServer())
        }
    }

    @Test func tenThousandHeaders() async throws {
        try await withServer(handler: Self.ok) { server in
            var text = "GET / HTTP/1.1\r\nHost: t\r\n"
            for i in 0..<10_000 { text += "X-H\(i): v\r\n" }
            let (r, closed) = try await answer(server.port, to: text + "\r\n")
            #expect(r.status == 431)
            #expect(r.errorCode == "headers_too_large")
            #expect(closed)
        }
    }

    @Test func tooManySmallHeaders() async throws {
        try await withServer(handler: Self.ok) { server in
            var text = "GET / HTTP/1.1\r\nHost: t\r\n"
            for i in 0..<150 { text += "a\(i):b\r\n" }  // ~1.3 KiB: under the size limit, over the count
            let (r, closed) = try await answer(server.port, to: text + "\r\n")
            #expect(r.status == 431)
            #expect(r.text.contains("header fields"))
            #expect(closed)
        }
    }

    @Test func headBlockOverSixteenKiB() async throws {
        try await withServer(handler: Self.ok) { server in
            let big = String(repeating: "x", count: 17 * 1024)
            let (r, closed) = try await answer(server.port, to: "GET / HTTP/1.1\r\nHost: t\r\nX-Big: \(big)\r\n\r\n")
            #expect(r.status == 431)
            #expect(closed)
            // Just under the limit is fine.
            let fits = String(repeating: "y", count: 16 * 1024 - 100)
            let (r2, _) = try await answer(server.port, to: "GET / HTTP/1.1\r\nHost: t\r\nX-Big: \(fits)\r\nConnection: close\r\n\r\n")
            #expect(r2.status == 200)
        }
    }
}
