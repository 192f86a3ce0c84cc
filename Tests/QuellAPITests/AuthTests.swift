import Foundation
import Quell
@testable import QuellAPI
import QuellHTTP
import Testing

/// Bearer tokens → tenants, the admin token, `--no-auth`, 401s.
@Suite struct AuthTests {
    /// Every authenticated route, with a body where it takes one.
    static let routes: [(method: String, target: String, body: String?)] = [
        ("POST", "/v1/jobs", #"{"type":"t"}"#),
        ("GET", "/v1/jobs", nil),
        ("GET", "/v1/jobs/01M85HVARZJHAZQA4FJE308EYZ", nil),
        ("POST", "/v1/jobs/01M85HVARZJHAZQA4FJE308EYZ/cancel", nil),
        ("POST", "/v1/cleanup", nil),
        ("GET", "/v1/stats", nil),
        ("GET", "/v1/events", nil),
    ]

    @Test func missingOrWrongTokensAre401Everywhere() async throws {
        try await withAPI("auth-401") { h in
            let bad: [(String?, [String])] = [
                (nil, []),                                   // no Authorization header
                ("tok-wrong", []),                           // unknown token
                ("tok-acm", []),                             // a prefix of a real one
                ("tok-acmee", []),                           // a real one plus more
                (nil, ["Authorization: Basic dG9rLWFjbWU6"]),  // another scheme
                (nil, ["Authorization: Bearer"]),            // no token
                (nil, ["Authorization: tok-acme"]),          // no scheme
            ]
            for route in Self.routes {
                for (token, headers) in bad {
                    let r = try await h.call(route.method, route.target, token: token, body: route.body, headers: headers)
                    #expect(r.status == 401, "\(route.method) \(route.target) \(token ?? "") \(headers) → \(r)")
                    #expect(r.errorCode == "unauthorized")
                    #expect(r.header("WWW-Authenticate") == "Bearer")
                }
            }
            // Nothing got through.
            #expect(try await h.store.stats(tenant: nil).counts[.queued] ?? 0 == 0)
        }
    }

    /// Two `Authorization` fields are refused (400) on every route, whichever comes first
    /// and even when both name the same token: never "the first one wins".
    @Test func twoAuthorizationFieldsAre400Everywhere() async throws {
        try await withAPI("auth-twice") { h in
            let pairs: [[String]] = [
                ["Authorization: Bearer tok-acme", "Authorization: Bearer tok-beta"],
                ["Authorization: Bearer tok-beta", "Authorization: Bearer tok-acme"],
                ["Authorization: Bearer tok-acme", "authorization: Bearer tok-acme"],
                ["Authorization: Bearer tok-wrong", "Authorization: Bearer \(APIHarness.admin)"],
            ]
            for route in Self.routes {
                for headers in pairs {
                    let r = try await h.call(route.method, route.target, token: nil, body: route.body, headers: headers)
                    #expect(r.status == 400, "\(route.method) \(route.target) \(headers) → \(r)")
                    #expect(r.text.contains("Authorization"))
                }
            }
            #expect(try await h.store.stats(tenant: nil).counts[.queued] ?? 0 == 0)
        }
    }

    /// The same rule in the API's own auth, for a request that did not come through the
    /// HTTP parser (built by hand, or from a server in front).
    @Test func authRefusesTwoAuthorizationFieldsByItself() throws {
        let auth = APIAuth(tokens: APIHarness.tokens, adminToken: APIHarness.admin)
        let twice = HTTPRequest(target: "/v1/jobs", headers: HTTPHeaders([
            (name: "Authorization", value: "Bearer tok-acme"), (name: "authorization", value: "Bearer tok-beta"),
        ]))
        guard case .failure(let f) = auth.caller(for: twice) else {
            Issue.record("two Authorization fields let a caller in")
            return
        }
        #expect(f.status == .badRequest && f.code == "invalid" && f.message.contains("Authorization"))
        let once = HTTPRequest(target: "/v1/jobs", headers: ["Authorization": "Bearer tok-beta"])
        #expect(try auth.caller(for: once).get() == .tenant("beta"))
    }

    @Test func tokensMapToTenantsAndTheSchemeIsCaseInsensitive() async throws {
        try await withAPI("auth-tenants") { h in
            let a = try await h.call("POST", "/v1/jobs", token: nil, body: #"{"type":"t"}"#, headers: ["Authorization: bearer tok-acme"])
            #expect(a.status == 202 && a.json["tenant"] == .string("acme"))
            let b = try await h.enqueue(token: "tok-beta")
            #expect(b.status == 202 && b.json["tenant"] == .string("beta"))
        }
    }

    @Test func adminSeesEveryTenantAndMayEnqueueForOne() async throws {
        try await withAPI("auth-admin") { h in
            let a = try await h.enqueueID(token: "tok-acme")
            let b = try await h.enqueueID(token: "tok-beta")
            #expect(try await h.call("GET", "/v1/jobs/\(a)", token: APIHarness.admin).status == 200)
            #expect(try await h.call("GET", "/v1/jobs/\(b)", token: APIHarness.admin).status == 200)
            let list = try await h.call("GET", "/v1/jobs", token: APIHarness.admin)
            #expect(Set(list.json["jobs"]?.arrayIDs ?? []) == [a, b])
            let forBeta = try await h.enqueue(#"{"type":"t","tenant":"beta"}"#, token: APIHarness.admin)
            #expect(forBeta.status == 202 && forBeta.json["tenant"] == .string("beta"))
            let plain = try await h.enqueue(#"{"type":"t"}"#, token: APIHarness.admin)
            #expect(plain.status == 202 && plain.json["tenant"] == .string("default"))
            let badTenant = try await h.enqueue(#"{"type":"t","tenant":"no/slash"}"#, token: APIHarness.admin)
            #expect(badTenant.status == 400)
            let stats = try await h.call("GET", "/v1/stats", token: APIHarness.admin)
            #expect(stats.json["counts"]?["queued"] == .number(4))
            let cancel = try await h.call("POST", "/v1/jobs/\(b)/cancel", token: APIHarness.admin)
            #expect(cancel.status == 200 && cancel.jobStatus == "cancelled")
        }
    }

    @Test func noAuthIsTenantDefaultAndIgnoresTokens() async throws {
        try await withAPI("auth-none", auth: APIAuth(noAuth: true)) { h in
            let r = try await h.enqueue(token: "anything")
            #expect(r.status == 202 && r.json["tenant"] == .string("default"))
            let id = try #require(r.jobID)
            let read = try await h.call("GET", "/v1/jobs/\(id)", token: nil)
            #expect(read.status == 200 && read.jobID == id)
        }
    }

    @Test func healthAndMetricsNeedNoToken() async throws {
        try await withAPI("auth-open") { h in
            let health = try await h.call("GET", "/healthz", token: nil)
            let metrics = try await h.call("GET", "/metrics", token: nil)
            #expect(health.status == 200 && metrics.status == 200)
        }
    }

    @Test func admitsAnyone() {
        #expect(!APIAuth().admitsAnyone)
        #expect(!APIAuth(adminToken: "").admitsAnyone)
        #expect(APIAuth(tokens: ["t": "acme"]).admitsAnyone)
        #expect(APIAuth(adminToken: "a").admitsAnyone)
        #expect(APIAuth(noAuth: true).admitsAnyone)
    }
}

extension JSONValue {
    /// The `id`s of an array of jobs.
    var arrayIDs: [String] {
        guard case .array(let items) = self else { return [] }
        return items.compactMap { $0["id"]?.stringValue }
    }
}
