import Foundation
import Quell
@testable import QuellAPI
import Testing

/// `GET /v1/events`: SSE from the events stream, filtered by tenant, resumable.
@Suite struct EventsTests {
    /// The acceptance test: a client that disconnects and resumes with Last-Event-ID
    /// sees every event once, versions rising, and only its tenant's.
    @Test func resumeWithLastEventIDSeesEveryEventOnce() async throws {
        try await withAPI("sse-resume") { h in
            let store = h.store
            let first = try await SSEClient.connect(port: h.port)
            #expect(first.head.header("Content-Type") == "text/event-stream")

            let a = try await h.enqueueID(#"{"type":"demo.sync","params":{"source":"a"}}"#)
            let b = try await h.enqueueID(#"{"type":"demo.sync","params":{"source":"b"}}"#)
            _ = try await h.enqueueID(token: "tok-beta")
            let started = try await h.startAll()                                   // a, b, beta's: v2
            #expect(started.count == 3)
            let p = JobProgress(stage: "sync", percent: 10, current: 1, total: 10, counters: ["synced": 1])
            _ = try await store.progress([ProgressReport(id: a, lease: started[a]!.lease, progress: p)])  // a v3
            var seen = try await first.events(5)                                   // a1 b1 a2 b2 a3
            let lastSeen = seen.last!.id
            first.disconnect()
            #expect(await eventually { try await h.call("GET", "/metrics").text.contains("quell_api_sse_clients 0\n") })

            // Changes while nobody listens.
            _ = try await store.progress([ProgressReport(id: b, lease: started[b]!.lease, progress: p)])  // b v3
            _ = try await store.finish([FinishReport(id: a, lease: started[a]!.lease, status: .completed)])  // a v4
            _ = try await store.cancel(id: b, tenant: "acme")                                                // b v4
            _ = try await store.confirmCancelled(id: b, lease: started[b]!.lease, progress: p)               // b v5
            let c = try await h.enqueueID()                                                                  // c v1

            let second = try await SSEClient.connect(port: h.port, lastEventID: lastSeen)
            seen += try await second.events(5)
            // And live ones after the resume.
            for (id, job) in started where job.job.tenant == "beta" {
                _ = try await store.finish([FinishReport(id: id, lease: job.lease, status: .failed, error: "x")])
            }
            _ = try await h.call("POST", "/v1/jobs/\(c)/cancel")                                             // c v2
            seen += try await second.events(1)

            let ids = seen.map { StreamID($0.id)! }
            #expect(ids == ids.sorted() && Set(seen.map(\.id)).count == seen.count, "stream ids rise, none twice")
            #expect(seen.allSatisfy { $0.event == "job" && $0.tenant == "acme" })
            var versions: [String: [Int]] = [:]
            for e in seen { versions[e.jobID, default: []].append(e.version) }
            #expect(versions[a] == [1, 2, 3, 4])
            #expect(versions[b] == [1, 2, 3, 4, 5])
            #expect(versions[c] == [1, 2])
            #expect(seen.map(\.status) == ["queued", "queued", "running", "running", "running",
                                           "running", "completed", "cancelling", "cancelled", "queued", "cancelled"])
            // Events carry params (which the stream itself leaves out).
            #expect(seen.filter { $0.jobID == a }.allSatisfy { $0.job["params"] == .object(["source": .string("a")]) })
            #expect(seen.last?.job["cancel"]?["reason"] == .string("user"))
        }
    }

    @Test func withoutLastEventIDItStartsFromNow() async throws {
        try await withAPI("sse-now") { h in
            _ = try await h.enqueueID()
            let client = try await SSEClient.connect(port: h.port)
            let b = try await h.enqueueID()
            let events = try await client.events(1)
            #expect(events.map(\.jobID) == [b])
            // The query parameter works like the header.
            let old = try await SSEClient.connect(port: h.port, target: "/v1/events?last_event_id=0-0")
            #expect(try await old.events(2).map(\.version) == [1, 1])
        }
    }

    @Test func adminSeesEveryTenantAndTenantsOnlyTheirOwn() async throws {
        try await withAPI("sse-tenants") { h in
            let admin = try await SSEClient.connect(port: h.port, token: APIHarness.admin)
            let beta = try await SSEClient.connect(port: h.port, token: "tok-beta")
            let a = try await h.enqueueID(token: "tok-acme")
            let b = try await h.enqueueID(token: "tok-beta")
            #expect(try await admin.events(2).map(\.jobID) == [a, b])
            #expect(try await beta.events(1).map(\.jobID) == [b])
            let metrics = try await h.call("GET", "/metrics")
            #expect(metrics.text.contains("quell_api_sse_clients 2\n"))
        }
    }

    @Test func idleStreamsGetHeartbeats() async throws {
        try await withAPI("sse-heartbeat", configure: { $0.sseHeartbeat = .milliseconds(100) }) { h in
            let client = try await SSEClient.connect(port: h.port)
            let comment = try await client.comment(containing: "heartbeat")
            #expect(comment == ": heartbeat")
        }
    }

    @Test func badRequestsAre400() async throws {
        try await withAPI("sse-400") { h in
            for (target, header) in [("/v1/events", "Last-Event-ID: yesterday"), ("/v1/events?last_event_id=1-x", ""),
                                     ("/v1/events?since=0", "")] {
                let r = try await h.call("GET", target, headers: header.isEmpty ? [] : [header])
                #expect(r.status == 400 && r.errorCode == "invalid", "\(target) \(header) → \(r)")
            }
        }
    }

    /// A subscriber whose buffer overflows is told to catch up from Redis, and the
    /// follower stops when nobody listens and resumes where it stopped.
    @Test func followerFlagsOverflowAndStopsWhenIdle() async throws {
        try await withAPI("sse-follower") { h in
            let follower = EventFollower(store: h.store, params: ParamsCache(store: h.store), block: 0.2, bufferedBatches: 1)
            defer { follower.close() }
            let start = try await h.store.lastEventID().flatMap { StreamID($0) } ?? .zero
            let sub = follower.subscribe(tenant: "acme", from: start)
            #expect(sub.takeNeedsCatchUp())
            #expect(!sub.takeNeedsCatchUp())
            var ids: [String] = []
            for _ in 0..<3 {
                ids.append(try await h.enqueueID())
                try await Task.sleep(for: .milliseconds(60))  // separate XREAD batches
            }
            #expect(sub.takeNeedsCatchUp(), "the second and third batches did not fit")
            var iterator = sub.stream.makeAsyncIterator()
            guard case .events(let batch)? = await iterator.next() else { Issue.record("no batch"); return }
            #expect(batch.map(\.job.id) == [ids[0]])
            #expect(batch[0].job.params == "{}")
            follower.unsubscribe(sub)
            #expect(follower.subscriberCount == 0)
            try await Task.sleep(for: .milliseconds(300))  // the loop ends after its block
            let later = try await h.enqueueID()
            let again = follower.subscribe(tenant: nil, from: start)
            _ = again.takeNeedsCatchUp()
            let next = try await h.enqueueID()
            var it = again.stream.makeAsyncIterator()
            // It resumes after where it stopped: the event it missed while idle comes first.
            guard case .events(let resumed)? = await it.next() else { Issue.record("no batch"); return }
            #expect(resumed.map(\.job.id).first == later)
            _ = next
        }
    }
}
