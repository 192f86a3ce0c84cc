import Foundation
import Quell
import Testing

/// Invariant 8 on every endpoint: another tenant's job does not exist for you.
@Suite struct TenantWallTests {
    @Test func anotherTenantsJobIsInvisibleEverywhere() async throws {
        try await withAPI("wall", staleAfter: 0.2) { h in
            let theirs = try await h.enqueueID(#"{"type":"t","key":"shared-key","params":{"secret":1}}"#, token: "tok-acme")
            let beta = "tok-beta"
            let betaStream = try await SSEClient.connect(port: h.port, token: beta)

            // GET /v1/jobs/{id}: 404, same as a job that does not exist.
            let show = try await h.call("GET", "/v1/jobs/\(theirs)", token: beta)
            #expect(show.status == 404 && show.errorCode == "not_found" && !show.text.contains("secret"))
            // POST /v1/jobs/{id}/cancel: 404, and nothing changes.
            let cancel = try await h.call("POST", "/v1/jobs/\(theirs)/cancel", token: beta)
            #expect(cancel.status == 404 && cancel.errorCode == "not_found")
            #expect(try await h.store.job(id: theirs, tenant: nil).status == .queued)
            // GET /v1/jobs: not listed, by status or by key either.
            for query in ["", "?status=queued", "?key=shared-key"] {
                let list = try await h.call("GET", "/v1/jobs\(query)", token: beta)
                #expect(list.status == 200 && list.json["jobs"] == .array([]), "\(query) → \(list)")
            }
            // POST /v1/jobs: the same key is another tenant's key — no conflict, no leak.
            let mine = try await h.enqueue(#"{"type":"t","key":"shared-key"}"#, token: beta)
            #expect(mine.status == 202 && mine.jobID != theirs)
            // GET /v1/stats: only beta's counts.
            let stats = try await h.call("GET", "/v1/stats", token: beta)
            #expect(stats.json["counts"]?["queued"] == .number(1))
            // POST /v1/cleanup: acme's stuck job is not beta's to clean.
            _ = try await h.store.start(worker: "w", leasePrefix: "l#", queues: ["default"], count: 1)  // acme's (oldest)
            try await Task.sleep(for: .milliseconds(250))
            let cleanup = try await h.call("POST", "/v1/cleanup", token: beta)
            #expect(cleanup.json["cleaned"] == .number(0))
            #expect(try await h.store.job(id: theirs, tenant: nil).status == .running)
            // GET /v1/events: beta's stream carries only beta's job.
            let events = try await betaStream.events(1)
            #expect(events.map(\.jobID) == [mine.jobID!])
            // The owner sees it all.
            let own = try await h.call("GET", "/v1/jobs/\(theirs)", token: "tok-acme")
            #expect(own.status == 200 && own.jobStatus == "running")
        }
    }
}
