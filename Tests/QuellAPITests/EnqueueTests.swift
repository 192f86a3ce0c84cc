import Foundation
import Quell
import Testing

/// `POST /v1/jobs`: 202 + job, and every error row: 400, 401, 409, 413, 415 (503 in RedisDownTests).
@Suite struct EnqueueTests {
    @Test func acceptedWithTheJob() async throws {
        try await withAPI("enq-ok") { h in
            let r = try await h.enqueue(#"{"type":"demo.sync","params":{"mode":"full","total":20},"key":"onedrive:kb-42","queue":"default","max_attempts":5,"timeout":60}"#)
            #expect(r.status == 202)
            #expect(r.header("Content-Type") == "application/json")
            let job = r.json
            #expect(job["type"] == .string("demo.sync") && job["tenant"] == .string("acme"))
            #expect(job["key"] == .string("onedrive:kb-42") && job["status"] == .string("queued"))
            #expect(job["params"] == .object(["mode": .string("full"), "total": .number(20)]))
            #expect(job["max_attempts"] == .number(5) && job["version"] == .number(1))
            let stored = try await h.store.job(id: try #require(r.jobID), tenant: "acme")
            #expect(stored.timeoutSeconds == 60 && stored.params == #"{"mode":"full","total":20}"#)

            let minimal = try await h.enqueue(#"{"type":"demo.noop"}"#)
            #expect(minimal.status == 202)
            #expect(minimal.json["params"] == .object([:]) && minimal.json["queue"] == .string("default"))
            #expect(minimal.json["max_attempts"] == .number(3) && minimal.json["key"] == .null)
            // Explicit nulls mean "not given".
            let nulls = try await h.enqueue(#"{"type":"demo.noop","params":null,"key":null,"queue":null,"max_attempts":null,"timeout":null}"#)
            #expect(nulls.status == 202)
        }
    }

    @Test func badRequestsAre400() async throws {
        try await withAPI("enq-400") { h in
            let bodies: [(String, String)] = [
                ("{", "invalid JSON"),
                ("[1,2]", "JSON object"),
                (#""demo.sync""#, "JSON object"),
                ("{}", "'type' is required"),
                (#"{"type":null}"#, "'type' is required"),
                (#"{"type":42}"#, "'type' must be a string"),
                (#"{"type":""}"#, "type must be"),
                (#"{"type":"has space"}"#, "type must be"),
                (#"{"type":"t","colour":"red"}"#, "unknown field 'colour'"),
                (#"{"type":"t","Type":"t"}"#, "unknown field 'Type'"),
                (#"{"type":"t","params":[1]}"#, "'params' must be a JSON object"),
                (#"{"type":"t","params":"{}"}"#, "'params' must be a JSON object"),
                (#"{"type":"t","key":""}"#, "key must be"),
                (#"{"type":"t","key":7}"#, "'key' must be a string"),
                (#"{"type":"t","queue":"no spaces"}"#, "queue must be"),
                (#"{"type":"t","max_attempts":0}"#, "max_attempts must be"),
                (#"{"type":"t","max_attempts":1.5}"#, "'max_attempts' must be an integer"),
                (#"{"type":"t","max_attempts":"3"}"#, "'max_attempts' must be an integer"),
                (#"{"type":"t","timeout":-1}"#, "timeout must be"),
                (#"{"type":"t","timeout":"60"}"#, "'timeout' must be a number"),
                (#"{"type":"t","tenant":"beta"}"#, "'tenant' is set by your token"),
            ]
            for (body, message) in bodies {
                let r = try await h.enqueue(body)
                #expect(r.status == 400, "\(body) → \(r)")
                #expect(r.errorCode == "invalid", "\(body) → \(r)")
                let text = r.json["error"]?["message"]?.stringValue ?? ""
                #expect(text.contains(message), "\(body) → \(text)")
            }
            let empty = try await h.call("POST", "/v1/jobs", body: "")
            #expect(empty.status == 400 && empty.errorCode == "invalid")
            let noBody = try await h.call("POST", "/v1/jobs")
            #expect(noBody.status == 400 && noBody.errorCode == "invalid")
            let query = try await h.call("POST", "/v1/jobs?priority=high", body: #"{"type":"t"}"#)
            #expect(query.status == 400 && query.errorCode == "invalid")
            // Nothing was enqueued by any of them.
            #expect(try await h.store.stats(tenant: "acme").counts[.queued] ?? 0 == 0)
        }
    }

    @Test func notJSONIs415() async throws {
        try await withAPI("enq-415") { h in
            for type in ["text/plain", "application/x-www-form-urlencoded", "application/jsonx", "multipart/form-data; boundary=x"] {
                let r = try await h.call("POST", "/v1/jobs", body: #"{"type":"t"}"#, contentType: type)
                #expect(r.status == 415 && r.errorCode == "unsupported_media_type", "\(type) → \(r)")
            }
            let missing = try await h.call("POST", "/v1/jobs", body: #"{"type":"t"}"#, contentType: nil)
            #expect(missing.status == 415 && missing.errorCode == "unsupported_media_type")
            for type in ["application/json; charset=utf-8", "Application/JSON", "application/vnd.quell+json"] {
                let r = try await h.call("POST", "/v1/jobs", body: #"{"type":"t"}"#, contentType: type)
                #expect(r.status == 202, "\(type) → \(r)")
            }
        }
    }

    @Test func tooLargeIs413() async throws {
        try await withAPI("enq-413") { h in
            let port = h.port
            // The server judges the Content-Length before reading the body.
            let r = try await onThread {
                let c = try TestClient(port: port)
                c.send("POST /v1/jobs HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer tok-acme\r\nContent-Type: application/json\r\nContent-Length: \(2 << 20)\r\n\r\n")
                return try c.readResponse()
            }
            #expect(r.status == 413 && r.errorCode == "body_too_large")
            // A body just under the limit is read, and judged as JSON.
            let padding = String(repeating: "x", count: (1 << 20) - 200)
            let big = try await h.enqueue(#"{"type":"t","params":{"pad":"\#(padding)"}}"#)
            #expect(big.status == 202)
        }
    }

    @Test func secondTriggerOfAKeyIs409WithTheHolder() async throws {
        try await withAPI("enq-409") { h in
            let first = try await h.enqueueID(#"{"type":"demo.sync","key":"drive:1","params":{"n":1}}"#)
            let second = try await h.enqueue(#"{"type":"demo.sync","key":"drive:1","params":{"n":2}}"#)
            #expect(second.status == 409 && second.errorCode == "conflict")
            #expect(second.jobID == first && second.jobStatus == "queued")
            #expect(second.json["job"]?["params"] == .object(["n": .number(1)]))
            // Still a conflict while it runs, with its progress.
            let started = try #require(try await h.startAll()[first])
            _ = try await h.store.progress([ProgressReport(id: first, lease: started.lease,
                                                           progress: JobProgress(stage: "sync", percent: 10, counters: ["synced": 2]))])
            let third = try await h.enqueue(#"{"type":"demo.sync","key":"drive:1"}"#)
            #expect(third.status == 409 && third.jobID == first && third.jobStatus == "running")
            #expect(third.json["job"]?["progress"]?["counters"]?["synced"] == .number(2))
            // Another key, or another tenant's same key, is no conflict.
            #expect(try await h.enqueue(#"{"type":"demo.sync","key":"drive:2"}"#).status == 202)
            #expect(try await h.enqueue(#"{"type":"demo.sync","key":"drive:1"}"#, token: "tok-beta").status == 202)
            // Once it ended, the key is free again.
            _ = try await h.store.finish([FinishReport(id: first, lease: started.lease, status: .completed)])
            #expect(try await h.enqueue(#"{"type":"demo.sync","key":"drive:1"}"#).status == 202)
        }
    }

    @Test func hundredConcurrentTriggersOneJob() async throws {
        try await withAPI("enq-100") { h in
            let port = h.port
            let body = #"{"type":"demo.sync","key":"inbox:race"}"#
            let bytes = requestText("POST", "/v1/jobs", headers: ["Authorization: Bearer tok-acme", "Content-Type: application/json"], body: body)
            // Connect all 100 first, then let them send at once.
            let gate = DispatchSemaphore(value: 0)
            let responses = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for _ in 0..<100 {
                    group.addTask {
                        try await onThread {
                            let c = try TestClient(port: port, receiveTimeout: 10)
                            gate.wait()
                            c.send(bytes)
                            return try c.readResponse()
                        }
                    }
                }
                try await Task.sleep(for: .milliseconds(100))
                for _ in 0..<100 { gate.signal() }
                var all: [TestResponse] = []
                for try await r in group { all.append(r) }
                return all
            }
            let accepted = responses.filter { $0.status == 202 }
            let conflicts = responses.filter { $0.status == 409 }
            #expect(accepted.count == 1)
            #expect(conflicts.count == 99)
            let id = try #require(accepted.first?.jobID)
            #expect(conflicts.allSatisfy { $0.errorCode == "conflict" && $0.jobID == id })
            #expect(try await h.store.stats(tenant: "acme").counts[.queued] == 1)
        }
    }
}
