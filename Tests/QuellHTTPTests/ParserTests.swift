import QuellHTTP
import Testing

/// The parser on its own, no sockets.
@Suite struct ParserTests {
    func parse(_ text: String, limits: HTTPParserLimits = HTTPParserLimits()) -> [HTTPParseResult] {
        var parser = HTTPRequestParser(limits: limits)
        parser.append(Array(text.utf8))
        var out: [HTTPParseResult] = []
        while true {
            let r = parser.next()
            out.append(r)
            switch r {
            case .request, .expectContinue: continue
            case .needMoreData, .error: return out
            }
        }
    }

    func one(_ text: String) throws -> HTTPRequest {
        guard case .request(let r) = parse(text).first else { throw TestFailure("no request from \(text.debugDescription)") }
        return r
    }

    func error(_ text: String, limits: HTTPParserLimits = HTTPParserLimits()) -> HTTPParseError? {
        if case .error(let e) = parse(text, limits: limits).last { return e }
        return nil
    }

    @Test func requestLineHeadersAndQuery() throws {
        let r = try one("GET /v1/jobs/a%20b?status=queued&limit=5&status=x&q=a+b%26c&flag HTTP/1.1\r\nHost: h\r\nX-Custom:  v  \r\n\r\n")
        #expect(r.method == .get)
        #expect(r.version == .http1_1)
        #expect(r.path == "/v1/jobs/a b")
        #expect(r.rawPath == "/v1/jobs/a%20b")
        #expect(r.query["status"] == "queued")
        #expect(r.queryValues("status") == ["queued", "x"])
        #expect(r.query["q"] == "a b&c")
        #expect(r.query["flag"] == "")
        #expect(r.query["limit"] == "5")
        #expect(r.header("x-custom") == "v")
        #expect(r.header("HOST") == "h")
        #expect(r.keepAlive)
        #expect(r.body.isEmpty)
    }

    @Test func contentLengthBodyArrivingInPieces() throws {
        var parser = HTTPRequestParser()
        let text = Array("POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world".utf8)
        var got: HTTPRequest?
        for b in text {
            parser.append([b])
            if case .request(let r) = parser.next() { got = r }
        }
        #expect(got.map { String(decoding: $0.body, as: UTF8.self) } == "hello world")
        #expect(!parser.hasPartialRequest)
    }

    @Test func pipelinedRequestsComeOutInOrder() {
        let results = parse("GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhiGET /c HTTP/1.1\r\nHost: h\r\n\r\n")
        let paths = results.compactMap { r -> String? in if case .request(let q) = r { q.path } else { nil } }
        #expect(paths == ["/a", "/b", "/c"])
    }

    @Test func keepAliveRules() throws {
        #expect(try !one("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").keepAlive)
        #expect(try !one("GET / HTTP/1.0\r\n\r\n").keepAlive)
        #expect(try one("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keepAlive)
    }

    @Test func chunkedIsRefusedWithLengthRequired() {
        let e = error("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        #expect(e?.status == .lengthRequired)
        #expect(e?.code == "length_required")
    }

    @Test func badSyntaxIsBadRequest() {
        for text in [
            "GET / HTTP/1.1\r\nHost: h\r\nBad Header: x\r\n\r\n",  // space in a name
            "GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n",  // obs-fold
            "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",  // two spaces
            "GET / HTTP/1.1\nHost: h\r\n\r\n",  // bare LF
            "GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n",  // bad escape
            "GET / HTTP/1.1\r\n\r\n",  // no Host
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "\u{16}\u{3}\u{1}",  // TLS hello: refused at once
            "GET / HTTX/1.1\r\nHost: h\r\n\r\n",
        ] {
            #expect(error(text)?.status == .badRequest, "\(text.debugDescription)")
        }
    }

    /// RFC 9110 §5.3: a field that is not a list may appear once. Two `Authorization`
    /// (or `Host`, `Content-Type`…) fields are refused, never "the first one wins".
    @Test func singletonFieldsTwiceAreBadRequest() throws {
        for (text, field) in [
            ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "Host"),
            ("GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n", "Host"),
            ("GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n", "Authorization"),
            ("GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer a\r\nX: 1\r\nAUTHORIZATION: Bearer a\r\n\r\n", "Authorization"),
            ("GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer a\r\nAuthorization:\r\n\r\n", "Authorization"),
            ("GET / HTTP/1.1\r\nHost: h\r\nProxy-Authorization: Basic a\r\nProxy-Authorization: Basic b\r\n\r\n",
             "Proxy-Authorization"),
            ("POST / HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}",
             "Content-Type"),
        ] {
            let e = error(text)
            #expect(e?.status == .badRequest && e?.code == "bad_request", "\(text.debugDescription)")
            #expect(e?.message.contains(field) == true, "\(e?.message ?? "no error")")
        }
        // Repeating other fields is fine, and so is one Content-Length value repeated (RFC 9110 §8.6).
        let r = try one("GET / HTTP/1.1\r\nHost: h\r\nAccept: a\r\nAccept: b\r\nX-A: 1\r\nX-A: 2\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n")
        #expect(r.headers.values("Accept") == ["a", "b"])
        #expect(r.headers.values("X-A") == ["1", "2"])
    }

    @Test func unsupportedVersion() {
        #expect(error("GET / HTTP/2.0\r\nHost: h\r\n\r\n")?.status == .httpVersionNotSupported)
        #expect(error("GET / HTTP/0.9\r\n\r\n")?.status == .httpVersionNotSupported)
    }

    @Test func limits() {
        let small = HTTPParserLimits(maxHeaderBytes: 100, maxHeaderCount: 3, maxBodyBytes: 10)
        #expect(error("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits: small)?.code == "headers_too_large")
        #expect(error("GET / HTTP/1.1\r\nHost: h\r\nA: \(String(repeating: "x", count: 200))", limits: small)?.status == .requestHeaderFieldsTooLarge)
        #expect(error("GET /\(String(repeating: "x", count: 200))", limits: small)?.status == .uriTooLong)
        // Judged from Content-Length, before any body byte.
        let e = error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", limits: small)
        #expect(e?.status == .contentTooLarge)
        #expect(e?.code == "body_too_large")
        #expect(error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n")?.code == "body_too_large")
    }

    @Test func expectContinueIsAnnouncedOnce() {
        var parser = HTTPRequestParser()
        parser.append(Array("PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n".utf8))
        guard case .expectContinue = parser.next() else { Issue.record("no 100-continue"); return }
        guard case .needMoreData = parser.next() else { Issue.record("asked twice"); return }
        parser.append(Array("abc".utf8))
        guard case .request(let r) = parser.next() else { Issue.record("no request"); return }
        #expect(r.body == Array("abc".utf8))
    }

    @Test func absoluteFormAndLeadingEmptyLines() throws {
        let r = try one("\r\n\r\nGET http://example.com/a%2Fb?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n")
        #expect(r.rawPath == "/a%2Fb")
        #expect(r.path == "/a/b")
        #expect(r.query["x"] == "1")
    }

    @Test func errorIsSticky() {
        var parser = HTTPRequestParser()
        parser.append(Array("BAD REQUEST LINE HERE\r\n".utf8))
        guard case .error = parser.next() else { Issue.record("expected an error"); return }
        parser.append(Array("GET / HTTP/1.1\r\nHost: h\r\n\r\n".utf8))
        guard case .error = parser.next() else { Issue.record("error was not sticky"); return }
    }
}
