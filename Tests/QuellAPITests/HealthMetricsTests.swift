import Foundation
import Quell
import Testing

/// `GET /healthz` and `GET /metrics`.
@Suite struct HealthMetricsTests {
    @Test func healthIsOK() async throws {
        try await withAPI("health") { h in
            let r = try await h.call("GET", "/healthz", token: nil)
            #expect(r.status == 200 && r.text == #"{"status":"ok"}"#)
        }
    }

    @Test func metricsInPrometheusText() async throws {
        try await withAPI("metrics") { h in
            let a = try await h.enqueueID(#"{"type":"t","key":"k"}"#)
            #expect(try await h.enqueue(#"{"type":"t","key":"k"}"#).status == 409)
            _ = try await h.enqueueID(#"{"type":"t","queue":"bulk"}"#)
            _ = try await h.enqueueID(token: "tok-beta")
            let b = try await h.enqueueID()
            _ = try await h.call("POST", "/v1/jobs/\(b)/cancel")
            #expect(try await h.call("GET", "/v1/jobs/01M85HVARZJHAZQA4FJE308EYZ").status == 404)
            let started = try #require(try await h.startAll()[a])
            _ = try await h.store.finish([FinishReport(id: a, lease: started.lease, status: .completed)])
            _ = try await h.store.heartbeat(WorkerRegistration(id: "host:9", queues: ["default"], slots: 2, busy: 0, startedAt: Date()), jobs: [])

            let r = try await h.call("GET", "/metrics", token: nil)
            #expect(r.status == 200)
            #expect(r.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
            let lines = Set(r.text.split(separator: "\n").map(String.init))
            for expected in [
                "quell_redis_up 1",
                #"quell_jobs{status="queued"} 1"#,          // acme's on bulk; the default queue's two were started
                #"quell_jobs{status="running"} 1"#,         // beta's
                #"quell_jobs{status="completed"} 1"#,
                #"quell_jobs{status="cancelled"} 1"#,
                #"quell_jobs_finished_total{status="completed"} 1"#,
                #"quell_jobs_finished_total{status="cancelled"} 1"#,
                #"quell_queue_depth{queue="bulk"} 1"#,
                "quell_workers_alive 1",
                "quell_api_jobs_enqueued_total 4",
                "quell_api_enqueue_conflicts_total 1",
                #"quell_api_cancels_total{status="cancelled"} 1"#,
                #"quell_api_http_requests_total{code="202"} 4"#,
                #"quell_api_http_requests_total{code="409"} 1"#,
                #"quell_api_http_requests_total{code="404"} 1"#,
                #"quell_api_cancel_latency_seconds_bucket{le="+Inf"} 0"#,
                "quell_api_cancel_latency_seconds_count 0",
                "# TYPE quell_api_cancel_latency_seconds histogram",
                "# TYPE quell_jobs gauge",
                "# TYPE quell_api_http_requests_total counter",
                "quell_api_sse_clients 0",
            ] {
                #expect(lines.contains(expected), "missing: \(expected)")
            }
            // Every sample line is `name{labels} number`.
            for line in lines where !line.hasPrefix("#") {
                let parts = line.split(separator: " ")
                #expect(parts.count == 2 && Double(parts[1]) != nil, "bad line: \(line)")
            }
        }
    }

    /// A counter never decreases: `quell_jobs_finished_total` keeps counting
    /// jobs the janitor has deleted (the `quell_jobs` gauge drops with them).
    @Test func finishedTotalSurvivesRetention() async throws {
        let clock = ManualClock(Date())
        try await withAPI("metrics-retention", clock: clock) { h in
            let a = try await h.enqueueID()
            let started = try #require(try await h.startAll()[a])
            _ = try await h.store.finish([FinishReport(id: a, lease: started.lease, status: .completed)])
            clock.advance(by: h.store.configuration.retention + 60)
            #expect(try await h.store.expireFinished() == 1)
            let lines = Set(try await h.call("GET", "/metrics", token: nil).text.split(separator: "\n").map(String.init))
            #expect(lines.contains(#"quell_jobs{status="completed"} 0"#))
            #expect(lines.contains(#"quell_jobs_finished_total{status="completed"} 1"#), "\(lines.sorted())")
        }
    }
}
