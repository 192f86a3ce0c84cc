import Foundation
import Quell
import Testing

/// `POST /v1/cleanup` → `{cleaned, jobs}`.
@Suite struct CleanupTests {
    @Test func closesTheCallersStuckJobsNow() async throws {
        // A manual clock: "stale" is decided by moving time, not by sleeping.
        let clock = ManualClock(Date())
        try await withAPI("cleanup", staleAfter: 0.3, clock: clock) { h in
            let overdue = try await h.enqueueID(#"{"type":"t","timeout":0.1}"#)
            let stale = try await h.enqueueID(#"{"type":"t","params":{"p":1}}"#)
            let healthy = try await h.enqueueID()
            let betaStale = try await h.enqueueID(token: "tok-beta")
            let started = try await h.startAll()
            #expect(started.count == 4)
            clock.advance(by: 0.35)
            // A heartbeat keeps one alive.
            _ = try await h.store.heartbeat(WorkerRegistration(id: "w1", queues: ["default"], slots: 4, busy: 1, startedAt: Date()),
                                            jobs: [(healthy, started[healthy]!.lease)])

            let r = try await h.call("POST", "/v1/cleanup", body: "{}")
            #expect(r.status == 200)
            #expect(r.json["cleaned"] == .number(2))
            let jobs = r.json["jobs"]
            #expect(Set(jobs?.arrayIDs ?? []) == [overdue, stale])
            guard case .array(let list)? = jobs else { Issue.record("no jobs"); return }
            for job in list {
                if job["id"]?.stringValue == overdue { #expect(job["status"] == .string("timed_out")) }
                if job["id"]?.stringValue == stale {
                    #expect(job["status"] == .string("queued"))  // requeued: attempts remain
                    #expect(job["params"] == .object(["p": .number(1)]))
                }
            }
            #expect(try await h.store.job(id: healthy, tenant: "acme").status == .running)
            #expect(try await h.store.job(id: betaStale, tenant: "beta").status == .running, "another tenant's job is not touched")
            let again = try await h.call("POST", "/v1/cleanup")
            #expect(again.json["cleaned"] == .number(0) && again.json["jobs"] == .array([]))
        }
    }

    @Test func badRequestsAre400Or415() async throws {
        try await withAPI("cleanup-400") { h in
            let unknownField = try await h.call("POST", "/v1/cleanup", body: #"{"all":true}"#)
            let unknownQuery = try await h.call("POST", "/v1/cleanup?tenant=beta")
            let notJSON = try await h.call("POST", "/v1/cleanup", body: "{}", contentType: "text/plain")
            let get = try await h.call("GET", "/v1/cleanup")
            #expect(unknownField.status == 400 && unknownQuery.status == 400)
            #expect(notJSON.status == 415 && get.status == 405)
        }
    }
}
