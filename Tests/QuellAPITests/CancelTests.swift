import Foundation
import Quell
import Testing

/// `POST /v1/jobs/{id}/cancel[?wait=SECONDS]`.
@Suite struct CancelTests {
    @Test func queuedJobIsCancelledAtOnceAndRepeatingAnswersTheSame() async throws {
        try await withAPI("cancel-queued") { h in
            let id = try await h.enqueueID(#"{"type":"t","params":{"p":1}}"#)
            let r = try await h.call("POST", "/v1/jobs/\(id)/cancel")
            #expect(r.status == 200 && r.jobStatus == "cancelled")
            #expect(r.json["cancel"]?["reason"] == .string("user") && r.json["params"] == .object(["p": .number(1)]))
            let again = try await h.call("POST", "/v1/jobs/\(id)/cancel?wait=0.1")
            #expect(again.status == 200 && again.jobStatus == "cancelled")
            #expect(again.json["version"] == r.json["version"])
        }
    }

    @Test func runningJobBecomesCancellingAndWaitSeesCancelled() async throws {
        try await withAPI("cancel-running") { h in
            let id = try await h.enqueueID(#"{"type":"demo.sync","params":{"p":2}}"#)
            let started = try #require(try await h.startAll()[id])

            // Not waited: cancelling at once.
            let r = try await h.call("POST", "/v1/jobs/\(id)/cancel", body: #"{"reason":"user clicked stop"}"#)
            #expect(r.status == 200 && r.jobStatus == "cancelling")
            #expect(r.json["cancel"]?["reason"] == .string("user clicked stop") && r.json["params"] == .object(["p": .number(2)]))

            // Waited: the worker confirms 150 ms later, the answer is cancelled with its counters.
            let store = h.store
            let confirm = Task {
                try await Task.sleep(for: .milliseconds(150))
                return try await store.confirmCancelled(id: id, lease: started.lease,
                                                        progress: JobProgress(stage: "sync", counters: ["synced": 7]))
            }
            let begin = ContinuousClock.now
            let waited = try await h.call("POST", "/v1/jobs/\(id)/cancel?wait=5")
            let elapsed = begin.duration(to: .now)
            #expect(try await confirm.value == .ok)
            #expect(waited.status == 200 && waited.jobStatus == "cancelled")
            #expect(waited.json["progress"]?["counters"]?["synced"] == .number(7))
            #expect(elapsed >= .milliseconds(140), "it waited for the worker's confirmation")
            let metrics = try await h.call("GET", "/metrics")
            #expect(metrics.text.contains("quell_api_cancel_latency_seconds_count 1\n"))
            #expect(metrics.text.contains("quell_api_cancels_total{status=\"cancelled\"} 1\n"))
            #expect(metrics.text.contains("quell_api_cancels_total{status=\"cancelling\"} 1\n"))
        }
    }

    @Test func waitEndsWithCancellingWhenTheWorkerIsSlow() async throws {
        try await withAPI("cancel-timeout") { h in
            let id = try await h.enqueueID()
            _ = try await h.startAll()
            let begin = ContinuousClock.now
            let r = try await h.call("POST", "/v1/jobs/\(id)/cancel?wait=0.3")
            let elapsed = begin.duration(to: .now)
            #expect(r.status == 200 && r.jobStatus == "cancelling")
            #expect(elapsed >= .milliseconds(290), "it waited the whole ?wait=")
        }
    }

    @Test func endedJobIs409NotCancellableWithTheJob() async throws {
        try await withAPI("cancel-409") { h in
            let id = try await h.enqueueID(#"{"type":"t","params":{"p":3}}"#)
            let started = try #require(try await h.startAll()[id])
            _ = try await h.store.finish([FinishReport(id: id, lease: started.lease, status: .completed)])
            let r = try await h.call("POST", "/v1/jobs/\(id)/cancel")
            #expect(r.status == 409 && r.errorCode == "not_cancellable")
            #expect(r.jobID == id && r.jobStatus == "completed" && r.json["job"]?["params"] == .object(["p": .number(3)]))
        }
    }

    @Test func unknownJobIs404AndBadRequestsAre400() async throws {
        try await withAPI("cancel-404") { h in
            let r = try await h.call("POST", "/v1/jobs/01M85HVARZJHAZQA4FJE308EYZ/cancel")
            #expect(r.status == 404 && r.errorCode == "not_found")
            #expect(try await h.call("POST", "/v1/jobs/nope/cancel").status == 404)
            let id = try await h.enqueueID()
            for query in ["wait=-1", "wait=abc", "wait=100000", "wait=nan", "force=1"] {
                let b = try await h.call("POST", "/v1/jobs/\(id)/cancel?\(query)")
                #expect(b.status == 400 && b.errorCode == "invalid", "\(query) → \(b)")
            }
            for body in [#"{"force":true}"#, #"{"reason":""}"#, #"{"reason":5}"#, "[]", "{"] {
                let b = try await h.call("POST", "/v1/jobs/\(id)/cancel", body: body)
                #expect(b.status == 400 && b.errorCode == "invalid", "\(body) → \(b)")
            }
            let plain = try await h.call("POST", "/v1/jobs/\(id)/cancel", body: "reason", contentType: "text/plain")
            #expect(plain.status == 415)
            // None of those cancelled it.
            #expect(try await h.store.job(id: id, tenant: "acme").status == .queued)
            #expect(try await h.call("GET", "/v1/jobs/\(id)/cancel").status == 405)
        }
    }
}
