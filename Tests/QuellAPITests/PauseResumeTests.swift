import QuellTestSupport
import Foundation
import Glibc
import Quell
import Testing

/// `POST /v1/jobs/{id}/pause` and `/resume`.
@Suite struct PauseResumeTests {
    @Test func queuedJobPausesAtOnceHoldsItsKeyAndResumes() async throws {
        try await withAPI("pause-api-queued") { h in
            let id = try await h.enqueueID(#"{"type":"t","params":{"p":1},"key":"drive-9"}"#)
            let r = try await h.call("POST", "/v1/jobs/\(id)/pause")
            #expect(r.status == 200 && r.jobStatus == "paused" && r.json["params"] == .object(["p": .number(1)]))
            #expect(r.json["paused_at"]?.stringValue != nil && r.json["resumes"] == .number(0))
            let again = try await h.call("POST", "/v1/jobs/\(id)/pause", body: "{}")
            #expect(again.status == 200 && again.jobStatus == "paused" && again.json["version"] == r.json["version"])
            // A trigger on the paused key: 409 carrying the paused job.
            let conflict = try await h.enqueue(#"{"type":"t","key":"drive-9"}"#)
            #expect(conflict.status == 409 && conflict.errorCode == "conflict" && conflict.jobID == id && conflict.jobStatus == "paused")
            let resumed = try await h.call("POST", "/v1/jobs/\(id)/resume")
            #expect(resumed.status == 200 && resumed.jobStatus == "queued" && resumed.json["resumes"] == .number(1))
            #expect(resumed.json["paused_at"] == .null)
            let twice = try await h.call("POST", "/v1/jobs/\(id)/resume")
            #expect(twice.status == 200 && twice.jobStatus == "queued" && twice.json["version"] == resumed.json["version"])
            let metrics = try await h.call("GET", "/metrics")
            #expect(metrics.text.contains("quell_pauses_total 1\n") && metrics.text.contains("quell_resumes_total 1\n"))
            #expect(metrics.text.contains("quell_forced_stops_total 0\n"))
            #expect(metrics.text.contains("quell_jobs{status=\"paused\"} 0\n") && metrics.text.contains("quell_jobs{status=\"pausing\"} 0\n"))
        }
    }

    @Test func runningJobIsPausingThenPausedAndRefusalsAre409WithTheJob() async throws {
        try await withAPI("pause-api-running") { h in
            let id = try await h.enqueueID(#"{"type":"demo.sync","params":{"p":2}}"#)
            let started = try #require(try await h.startAll()[id])
            let r = try await h.call("POST", "/v1/jobs/\(id)/pause")
            #expect(r.status == 200 && r.jobStatus == "pausing")
            let early = try await h.call("POST", "/v1/jobs/\(id)/resume")
            #expect(early.status == 409 && early.errorCode == "not_resumable" && early.jobStatus == "pausing")
            #expect(early.json["job"]?["params"] == .object(["p": .number(2)]))
            #expect(try await h.store.confirmPaused(id: id, lease: started.lease, progress: nil, cursor: nil) == .ok)
            let stats = try await h.call("GET", "/v1/stats")
            #expect(stats.json["counts"]?["paused"] == .number(1) && stats.json["counts"]?["pausing"] == .number(0))
            let listed = try await h.call("GET", "/v1/jobs?status=paused")
            guard case .array(let listedJobs)? = listed.json["jobs"] else { Issue.record("no jobs array"); return }
            #expect(listedJobs.count == 1)
            // Cancel of a paused job: cancelled at once.
            let cancelled = try await h.call("POST", "/v1/jobs/\(id)/cancel")
            #expect(cancelled.status == 200 && cancelled.jobStatus == "cancelled")
            for action in ["pause", "resume"] {
                let refused = try await h.call("POST", "/v1/jobs/\(id)/\(action)")
                #expect(refused.status == 409 && refused.errorCode == "not_\(action == "pause" ? "pausable" : "resumable")")
                #expect(refused.jobID == id && refused.jobStatus == "cancelled")
            }
        }
    }

    @Test func unknownOtherTenantsAndBadRequests() async throws {
        try await withAPI("pause-api-404") { h in
            let id = try await h.enqueueID()
            for action in ["pause", "resume"] {
                #expect(try await h.call("POST", "/v1/jobs/01M85HVARZJHAZQA4FJE308EYZ/\(action)").status == 404)
                #expect(try await h.call("POST", "/v1/jobs/\(id)/\(action)", token: "tok-beta").status == 404)
                #expect(try await h.call("POST", "/v1/jobs/\(id)/\(action)", token: nil).status == 401)
                #expect(try await h.call("POST", "/v1/jobs/\(id)/\(action)?wait=1").status == 400)
                #expect(try await h.call("POST", "/v1/jobs/\(id)/\(action)", body: #"{"why":"x"}"#).status == 400)
            }
            #expect(try await h.call("GET", "/v1/jobs/\(id)").jobStatus == "queued", "nothing changed")
        }
    }

    /// The API process pauses a job a real `quell worker` process runs: it is
    /// `paused` once the worker reaches its next checkpoint; resumed, it runs again.
    @Test func pauseThroughTheAPIReachesARealWorker() async throws {
        try await withAPI("pause-api-worker") { h in
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("quell-pause-\(UUID().uuidString).log").path
            var env = ProcessInfo.processInfo.environment
            env["QUELL_REDIS_URL"] = h.store.configuration.redisURL.description
            env["QUELL_PREFIX"] = h.store.configuration.prefix
            let worker = try ChildProcess(quellBinary, ["worker", "--concurrency", "1", "--heartbeat", "0.5"],
                                          environment: env, outputPath: log)
            do {
                try await pauseAndResume(h, log: log)
            } catch {
                worker.signal(SIGKILL)
                _ = await worker.exitCode(timeout: 5)
                throw error
            }
            worker.signal(SIGKILL)
            _ = await worker.exitCode(timeout: 5)
            try? FileManager.default.removeItem(atPath: log)
        }
    }

    private func pauseAndResume(_ h: APIHarness, log: String) async throws {
        let id = try await h.enqueueID(#"{"type":"demo.sleep","params":{"ms":3600000}}"#)
        #expect(await eventually(timeout: .seconds(60)) { try await h.call("GET", "/v1/jobs/\(id)").jobStatus == "running" })
        let r = try await h.call("POST", "/v1/jobs/\(id)/pause")
        #expect(r.status == 200 && r.jobStatus == "pausing")
        #expect(await eventually(timeout: .seconds(60)) { try await h.call("GET", "/v1/jobs/\(id)").jobStatus == "paused" },
                "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        #expect(try await h.call("POST", "/v1/jobs/\(id)/resume").jobStatus == "queued")
        #expect(await eventually(timeout: .seconds(60)) {
            let j = try await h.call("GET", "/v1/jobs/\(id)")
            return j.jobStatus == "running" && j.json["resumes"] == .number(1)
        })
        #expect(try await h.call("POST", "/v1/jobs/\(id)/cancel?wait=30").jobStatus == "cancelled")
    }
}

/// The `quell` binary built beside the test bundle.
private var quellBinary: String {
    if let path = ProcessInfo.processInfo.environment["QUELL_BINARY"] { return path }
    return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("quell").path
}
