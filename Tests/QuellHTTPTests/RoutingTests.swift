import Foundation
import QuellHTTP
import Testing

/// Routing over real sockets: path parameters, 404, 405, HEAD.
@Suite struct RoutingTests {
    func makeRouter() -> HTTPRouter {
        var router = HTTPRouter()
        router.add(.post, "/v1/jobs/:id/cancel") { req in
            .json(.ok, ["cancelled": req.pathParameters["id"] ?? "?", "wait": req.query["wait"] ?? ""])
        }
        router.get("/v1/jobs/:id") { req in .text(.ok, "job \(req.pathParameters["id"] ?? "?")") }
        router.get("/v1/jobs/stats") { _ in .text(.ok, "stats") }
        router.get("/v1/jobs") { _ in .json(.ok, raw: Array("[]".utf8)) }
        return router
    }

    @Test func pathParametersAndErrors() async throws {
        let responses = try await withServer(handler: makeRouter().handler) { server in
          let port = server.port
          return try await onThread { () throws -> [TestResponse] in
            let c = try TestClient(port: port)
            var out: [TestResponse] = []
            for r in [
                request("POST", "/v1/jobs/j-42/cancel?wait=2.5", body: ""),
                request("GET", "/v1/jobs/a%2Fb%20c"),
                request("GET", "/v1/jobs/stats"),
                request("GET", "/v1/jobs"),
                request("GET", "/v1/nothing"),
                request("DELETE", "/v1/jobs/j-1"),
                request("HEAD", "/v1/jobs/j-7"),
            ] {
                c.send(r)
                out.append(try c.readResponse(head: r.hasPrefix("HEAD")))
            }
            return out
          }
        }
        let cancel = try JSONSerialization.jsonObject(with: Data(responses[0].body)) as? [String: String]
        #expect(responses[0].status == 200)
        #expect(responses[0].header("Content-Type") == "application/json")
        #expect(cancel == ["cancelled": "j-42", "wait": "2.5"])
        #expect(responses[1].text == "job a/b c")  // decoded per segment: %2F stays inside the parameter
        #expect(responses[2].text == "stats")  // a literal segment beats :id
        #expect(responses[3].text == "[]")
        #expect(responses[4].status == 404)
        #expect(responses[4].errorCode == "not_found")
        #expect(responses[5].status == 405)
        #expect(responses[5].errorCode == "method_not_allowed")
        #expect(responses[5].header("Allow") == "GET, HEAD")
        #expect(responses[6].status == 200)  // HEAD falls back to GET, without a body
        #expect(responses[6].header("Content-Length") == "7")
        #expect(responses[6].body.isEmpty)
    }

    @Test func routerWorksWithoutSockets() async {
        let router = makeRouter()
        let r = await router.handle(HTTPRequest(method: .get, target: "/v1/jobs/x1?y=2"))
        #expect(r.bodyBytes == Array("job x1".utf8))
        let missing = await router.handle(HTTPRequest(method: .get, target: "/nope"))
        #expect(missing.status == .notFound)
    }
}
