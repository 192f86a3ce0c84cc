import Foundation
import QuellHTTP
import Testing

/// Request bodies: Content-Length echo, chunked refusal, the body limit, 100-continue.
@Suite struct BodyTests {
    static let echo: HTTPHandler = { req in
        HTTPResponse(status: .ok, headers: ["Content-Type": req.header("content-type") ?? "application/octet-stream"], body: req.body)
    }

    @Test func contentLengthBodyIsEchoed() async throws {
        try await withServer(handler: Self.echo) { server in
            let port = server.port
            let payload = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let responses = try await onThread { () throws -> [TestResponse] in
                let c = try TestClient(port: port)
                c.send(request("POST", "/echo", headers: ["Content-Type: application/json"], body: "{\"a\":1}"))
                let small = try c.readResponse()
                c.send(Array("PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: \(payload.count)\r\n\r\n".utf8) + payload)
                return [small, try c.readResponse()]
            }
            #expect(responses[0].text == "{\"a\":1}")
            #expect(responses[0].header("Content-Type") == "application/json")
            #expect(responses[1].body == payload)
        }
    }

    @Test func chunkedBodyIsRefused() async throws {
        try await withServer(handler: Self.echo) { server in
            let port = server.port
            let (r, closed) = try await onThread { () throws -> (TestResponse, Bool) in
                let c = try TestClient(port: port)
                c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
                let r = try c.readResponse()
                return (r, c.closedByServer())
            }
            #expect(r.status == 411)
            #expect(r.errorCode == "length_required")
            #expect(r.text.contains("Content-Length"))
            #expect(closed)
        }
    }

    /// 413 comes from the Content-Length alone: before the client has sent any of the
    /// 10 MiB, and the connection is closed rather than read to the end (the lingering
    /// close drains at most `lingerMaxBytes`).
    @Test func tenMebibyteBodyIsRefusedBeforeReading() async throws {
        let probe = Probe()
        try await withServer({ $0.lingerMaxBytes = 256 * 1024 }, handler: { req in
            probe.note("handler")
            return .text(.ok, "read \(req.body.count)")
        }) { server in
            let port = server.port
            let tenMiB = 10 * 1024 * 1024
            let (r, sent) = try await onThread { () throws -> (TestResponse, Int) in
                let c = try TestClient(port: port, receiveTimeout: 3, sendBuffer: 64 * 1024)
                c.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: \(tenMiB)\r\n\r\n")
                let r = try c.readResponse()  // no body byte sent yet
                // Keep sending: the server drains a little, then drops the connection.
                let chunk = [UInt8](repeating: 0x61, count: 64 * 1024)
                var sent = 0
                while sent < tenMiB, c.send(chunk) { sent += chunk.count }
                return (r, sent)
            }
            #expect(r.status == 413)
            #expect(r.errorCode == "body_too_large")
            #expect(r.header("Connection") == "close")
            #expect(sent < tenMiB)
            #expect(!probe.contains("handler"))
        }
    }

    /// A client that writes a whole over-limit body before it reads anything (as Python's
    /// http.client does without `Expect: 100-continue`) still reads the complete 413 and
    /// an orderly close, not a broken pipe or a reset: after answering, the server
    /// half-closes and drains what the client still sends before it closes.
    @Test func clientWritingAWholeTooLargeBodyBeforeReadingGets413() async throws {
        let probe = Probe()
        // A long linger time, so that only the byte bound (16 MiB by default) and the
        // client's own close can end the drain: the test does not race a clock.
        try await withServer({ $0.lingerTimeout = .seconds(60) }, handler: { req in
            probe.note("handler")
            return .text(.ok, "read \(req.body.count)")
        }) { server in
            let port = server.port
            let tenMiB = 10 * 1024 * 1024
            let (sent, response, orderly) = try await onThread { () throws -> (Bool, Result<TestResponse, any Error>, Bool) in
                let c = try TestClient(port: port, receiveTimeout: 30)
                let head = "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: \(tenMiB)\r\n\r\n"
                // One blocking write of head and body: it completes only if the server reads it all.
                let sent = c.send(Array(head.utf8) + [UInt8](repeating: 0x61, count: tenMiB))
                let response = Result { try c.readResponse() }
                return (sent, response, c.endsWithOrderlyClose())
            }
            #expect(sent, "writing the body failed (EPIPE or ECONNRESET): the server closed with unread data")
            let r = try response.get()
            #expect(r.status == 413)
            #expect(r.errorCode == "body_too_large")
            #expect(r.header("Connection") == "close")
            #expect(orderly, "the connection ended with a reset, not a FIN")
            #expect(!probe.contains("handler"))
        }
    }

    @Test func configurableBodyLimit() async throws {
        try await withServer({ $0.limits.maxBodyBytes = 10 }, handler: Self.echo) { server in
            let port = server.port
            let codes = try await onThread { () throws -> [Int] in
                let ok = try TestClient(port: port)
                ok.send(request("POST", "/", body: "0123456789"))
                let tooBig = try TestClient(port: port)
                tooBig.send(request("POST", "/", body: "0123456789X"))
                return [try ok.readResponse().status, try tooBig.readResponse().status]
            }
            #expect(codes == [200, 413])
        }
    }

    @Test func expectContinueGetsInterimResponse() async throws {
        try await withServer(handler: Self.echo) { server in
            let port = server.port
            let (interim, final) = try await onThread { () throws -> (TestResponse, TestResponse) in
                let c = try TestClient(port: port)
                c.send("PUT /x HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
                let interim = try c.readResponse()
                c.send("hello")
                return (interim, try c.readResponse())
            }
            #expect(interim.status == 100)
            #expect(final.text == "hello")
        }
    }
}
