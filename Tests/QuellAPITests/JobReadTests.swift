import Foundation
import Quell
import Testing

/// `GET /v1/jobs/{id}` and `GET /v1/jobs?status=&key=&limit=&cursor=`.
@Suite struct JobReadTests {
    @Test func showsAJobOr404() async throws {
        try await withAPI("read-show") { h in
            let id = try await h.enqueueID(#"{"type":"demo.sync","params":{"source":"inbox-1"},"key":"k"}"#)
            let r = try await h.call("GET", "/v1/jobs/\(id)")
            #expect(r.status == 200 && r.jobID == id)
            let keys = Set(r.json.objectValue?.keys.map { $0 } ?? [])
            #expect(keys == ["id", "type", "queue", "tenant", "key", "status", "params", "progress", "attempt",
                             "max_attempts", "version", "created_at", "started_at", "heartbeat_at", "completed_at",
                             "deadline_at", "expected_duration_seconds", "worker", "error", "cancel", "headers",
                         "paused_at", "resumes"])
            #expect(r.json["params"] == .object(["source": .string("inbox-1")]))
            // Running: progress and worker appear.
            let started = try #require(try await h.startAll(worker: "host:42")[id])
            _ = try await h.store.progress([ProgressReport(id: id, lease: started.lease, progress: JobProgress(
                stage: "processing_files", percent: 45.2, current: 9, total: 20, counters: ["synced": 8, "failed": 1]))])
            let running = try await h.call("GET", "/v1/jobs/\(id)")
            #expect(running.jobStatus == "running" && running.json["worker"] == .string("host:42"))
            #expect(running.json["progress"] == .object(["stage": .string("processing_files"), "percent": .number(45.2),
                                                         "current": .number(9), "total": .number(20),
                                                         "counters": .object(["synced": .number(8), "failed": .number(1)])]))
            #expect(running.json["version"] == .number(3))

            for missing in ["01M85HVARZJHAZQA4FJE308EYZ", "not-an-id", "%2F..%2F", String(repeating: "Z", count: 300)] {
                let m = try await h.call("GET", "/v1/jobs/\(missing)")
                #expect(m.status == 404 && m.errorCode == "not_found", "\(missing) → \(m)")
            }
            #expect(try await h.call("GET", "/v1/jobs/\(id)?verbose=1").status == 400)
        }
    }

    @Test func listsNewestFirstWithFiltersAndPages() async throws {
        try await withAPI("read-list") { h in
            var ids: [String] = []
            for i in 0..<7 {
                ids.append(try await h.enqueueID(#"{"type":"t","key":"\#(i % 2 == 0 ? "even" : "odd-\(i)")"}"#))
                if i % 2 == 0 && i < 6 {
                    #expect(try await h.call("POST", "/v1/jobs/\(ids.last!)/cancel").jobStatus == "cancelled")
                }
            }
            let all = try await h.call("GET", "/v1/jobs")
            #expect(all.status == 200)
            #expect(all.json["jobs"]?.arrayIDs == ids.reversed())
            #expect(all.json["next_cursor"] == .null)

            let cancelled = try await h.call("GET", "/v1/jobs?status=cancelled")
            #expect(cancelled.json["jobs"]?.arrayIDs == [ids[4], ids[2], ids[0]])
            let queued = try await h.call("GET", "/v1/jobs?status=queued")
            #expect(queued.json["jobs"]?.arrayIDs == [ids[6], ids[5], ids[3], ids[1]])
            let even = try await h.call("GET", "/v1/jobs?key=even")
            #expect(even.json["jobs"]?.arrayIDs == [ids[6], ids[4], ids[2], ids[0]])
            let evenQueued = try await h.call("GET", "/v1/jobs?key=even&status=queued")
            #expect(evenQueued.json["jobs"]?.arrayIDs == [ids[6]])

            var seen: [String] = []
            var cursor: String? = nil
            var pages = 0
            repeat {
                let r = try await h.call("GET", "/v1/jobs?limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""))
                #expect(r.status == 200)
                seen += r.json["jobs"]?.arrayIDs ?? []
                cursor = r.json["next_cursor"]?.stringValue
                pages += 1
            } while cursor != nil && pages < 10
            #expect(seen == ids.reversed() && pages == 3)
        }
    }

    @Test func badListQueriesAre400() async throws {
        try await withAPI("read-400") { h in
            for query in ["status=done", "status=", "limit=0", "limit=1001", "limit=ten", "limit=-1", "cursor=nope",
                          "key=", "sort=asc", "status=queued&status=running"] {
                let r = try await h.call("GET", "/v1/jobs?\(query)")
                #expect(r.status == 400 && r.errorCode == "invalid", "\(query) → \(r)")
            }
        }
    }
}
