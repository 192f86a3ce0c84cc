import Foundation
import Quell
import Testing

/// Request bodies are strict RFC 8259 JSON read without recursion (issue 14 §2), and
/// numbers in params reach Redis and come back exactly as the client wrote them.
@Suite struct StrictJSONTests {
    /// ~2.7 KB of objects 350 deep: crashed `quell api` with SIGSEGV before.
    static let deep = String(repeating: #"{"a":"#, count: 350) + "1" + String(repeating: "}", count: 350)

    private func expectInvalid(_ r: TestResponse, _ message: String, _ context: String) {
        #expect(r.status == 400 && r.errorCode == "invalid", "\(context) → \(r)")
        let text = r.json["error"]?["message"]?.stringValue ?? ""
        #expect(text.contains(message), "\(context) → \(text)")
    }

    @Test func deeplyNestedBodiesAre400AndTheServerKeepsServing() async throws {
        try await withAPI("json-deep") { h in
            let id = try await h.enqueueID()
            let requests: [(String, String)] = [
                ("/v1/jobs", Self.deep),
                ("/v1/jobs", #"{"type":"demo.sync","params":"# + Self.deep + "}"),
                ("/v1/cleanup", Self.deep),
                ("/v1/jobs/\(id)/cancel", Self.deep),
                ("/v1/jobs", String(repeating: "[", count: 100_000)),
            ]
            for (target, body) in requests {
                let r = try await h.call("POST", target, body: body)
                expectInvalid(r, "invalid JSON: nesting deeper than 64 at byte", "\(target) \(body.prefix(30))")
            }
            // Still serving; the job was neither cancelled nor joined by another.
            let job = try await h.call("GET", "/v1/jobs/\(id)")
            #expect(job.status == 200 && job.jobStatus == "queued")
            #expect(try await h.call("GET", "/healthz", token: nil).status == 200)
            #expect(try await h.enqueue().status == 202)
            // 64 deep is allowed: the body (1) plus params (1) plus 62 more.
            let params62 = String(repeating: #"{"a":"#, count: 62) + "1" + String(repeating: "}", count: 62)
            #expect(try await h.enqueue(#"{"type":"demo.sync","params":{"a":"# + params62 + "}}").status == 202)
            let params63 = String(repeating: #"{"a":"#, count: 63) + "1" + String(repeating: "}", count: 63)
            expectInvalid(try await h.enqueue(#"{"type":"demo.sync","params":{"a":"# + params63 + "}}"), "nesting deeper than 64", "65 deep")
        }
    }

    @Test func duplicateMembersAndTrailingCommasAre400() async throws {
        try await withAPI("json-strict") { h in
            let id = try await h.enqueueID()
            let cases: [(String, String, String)] = [
                ("/v1/jobs", #"{"type":"demo.sync","type":"demo.noop"}"#, #"duplicate member name "type" at byte 20"#),
                ("/v1/jobs", #"{"type":"demo.sync","params":{"id":1,"id":2}}"#, #"duplicate member name "id" at byte 37"#),
                ("/v1/jobs/\(id)/cancel", #"{"reason":"a","reason":"b"}"#, #"duplicate member name "reason""#),
                ("/v1/jobs", #"{"type":"demo.sync",}"#, "trailing comma before '}' at byte 19"),
                ("/v1/jobs", #"{"type":"demo.sync","params":{"ids":[1,2,]}}"#, "trailing comma before ']' at byte 40"),
                ("/v1/cleanup", "{,}", "expected a member name"),
                ("/v1/jobs", #"{"type":"demo.sync","max_attempts":03}"#, "leading zero"),
                ("/v1/jobs", #"{"type":"demo.sync","timeout":1e400}"#, "number out of range"),
                ("/v1/jobs", #"{"type":"demo.sync","params":{"s":"\uD800"}}"#, "lone surrogate"),
                ("/v1/jobs", "{\"type\":\"demo.sync\"} {}", "after the JSON value"),
            ]
            for (target, body, message) in cases {
                expectInvalid(try await h.call("POST", target, body: body), message, body)
            }
            #expect(try await h.call("GET", "/v1/jobs/\(id)").jobStatus == "queued")
            // An integer too big for max_attempts is out of range, not "not an integer".
            expectInvalid(try await h.enqueue(#"{"type":"t","max_attempts":100000000000000000000}"#), "max_attempts must be from 1 to 100", "huge")
        }
    }

    @Test func bigIntegersInParamsComeBackExactly() async throws {
        try await withAPI("json-bigint") { h in
            let body = #"{"type":"demo.sync","params":{"id":9007199254740993,"min":-9223372036854775808,"#
                + #""max":18446744073709551615,"huge":123456789012345678901234567890,"ratio":1.50,"e":1E+2}}"#
            let exact = #"{"e":1E+2,"huge":123456789012345678901234567890,"id":9007199254740993,"#
                + #""max":18446744073709551615,"min":-9223372036854775808,"ratio":1.50}"#
            let created = try await h.enqueue(body)
            #expect(created.status == 202)
            #expect(created.text.contains(#""params":"# + exact), "\(created)")
            let id = try #require(created.jobID)
            let read = try await h.call("GET", "/v1/jobs/\(id)")
            #expect(read.status == 200 && read.text.contains(#""params":"# + exact), "\(read)")
            #expect(read.json["params"]?["id"]?.int64Value == 9_007_199_254_740_993)
            #expect(read.json["params"]?["max"]?.uint64Value == UInt64.max)
            #expect(try await h.store.job(id: id, tenant: "acme").params == exact)
            // The list and the cancel answer carry the same text.
            let cancelled = try await h.call("POST", "/v1/jobs/\(id)/cancel")
            #expect(cancelled.text.contains(#""params":"# + exact), "\(cancelled)")
        }
    }
}
