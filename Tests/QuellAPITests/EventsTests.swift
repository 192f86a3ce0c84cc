import Foundation
import Quell
@testable import QuellAPI
import QuellTestSupport
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

    /// A call's events share one stream entry, each with its own id: a client
    /// that saw part of an entry resumes inside it, seeing the rest once.
    @Test func resumeFromInsideAnEntry() async throws {
        try await withAPI("sse-entry") { h in
            let jobs = try await h.store.enqueue(batch: (0..<3).map { _ in EnqueueRequest(type: "t", tenant: "acme") })
                .map { try $0.get() }
            let all = try await h.store.events(after: nil)
            #expect(all.count == 3 && all[0].id.contains("."))
            let client = try await SSEClient.connect(port: h.port, lastEventID: all[0].id)
            let seen = try await client.events(2)
            #expect(seen.map(\.id) == [all[1].id, all[2].id])
            #expect(seen.map(\.jobID) == [jobs[1].id, jobs[2].id])
            // And live ones after it.
            let d = try await h.enqueueID()
            #expect(try await client.events(1).map(\.jobID) == [d])
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

    /// A Last-Event-ID beyond the stream's end (a bad client, or an honest one after a
    /// Redis restore) resumes that client from now and moves nobody else: clients of
    /// every tenant, connected before or after it, get their events, and so does it.
    @Test func aLastEventIDPastTheEndFreezesNobody() async throws {
        try await withAPI("sse-future", configure: { $0.sseHeartbeat = .milliseconds(50) }) { h in
            let old = try await h.enqueueID()                   // history it must not replay
            let future = try await SSEClient.connect(port: h.port, lastEventID: "9999999999999-0")
            let beta = try await SSEClient.connect(port: h.port, token: "tok-beta")
            let acme = try await SSEClient.connect(port: h.port)
            // A heartbeat follows each stream's catch-up from Redis: from here on, events
            // reach them only through the process's follower.
            for client in [future, beta, acme] { _ = try await client.comment(containing: "heartbeat") }
            let a = try await h.enqueueID()
            let b = try await h.enqueueID(token: "tok-beta")
            #expect(try await acme.events(1).map(\.jobID) == [a])
            #expect(try await beta.events(1).map(\.jobID) == [b])
            #expect(try await future.events(1).map(\.jobID) == [a], "not \(old): it resumes from now")

            // The same from a client arriving while the follower runs.
            let late = try await SSEClient.connect(port: h.port, lastEventID: "9999999999999-5")
            _ = try await late.comment(containing: "heartbeat")
            let c = try await h.enqueueID()
            #expect(try await late.events(1).map(\.jobID) == [c])
            #expect(try await acme.events(1).map(\.jobID) == [c])
            #expect(try await future.events(1).map(\.jobID) == [c])
        }
    }

    /// After a restore (or a failover to a replica whose clock is behind) the stream can
    /// end before ids already handed out. The follower and the connected clients carry on
    /// from the stream's new end instead of waiting for its ids to pass the old ones.
    @Test func streamGoingBackwardsAfterARestoreFreezesNobody() async throws {
        let redis = try await onThread { try RedisServerProcess.start() }
        try await withAPI("sse-restore", redisURL: redis.url, configure: { $0.sseHeartbeat = .milliseconds(50) }) { h in
            let live = try await SSEClient.connect(port: h.port)
            _ = try await live.comment(containing: "heartbeat")
            let x = try await h.enqueueID()
            #expect(try await live.events(1).map(\.jobID) == [x])
            // An entry with an id from the future, as a master whose clock ran ahead leaves.
            let entries = try await h.store.redis.send(RedisCommand("XRANGE", h.store.keys.events, "-", "+"))
            let packed = try #require(entries.array?.last?.array?[1].array?[1].string)
            _ = try await h.store.redis.send(RedisCommand("XADD", h.store.keys.events, "9999999999999-0", "j", packed))
            #expect(try await live.events(1).map(\.id) == ["9999999999999-0"])
            // Redis comes back from an older snapshot (here: empty).
            await onThreadNoThrow { redis.stop() }
            try await onThread { try redis.start() }
            #expect(await eventually { try await h.call("GET", "/healthz", token: nil).status == 200 })
            _ = try await live.comment(containing: "past the end of the stream")
            let fresh = try await SSEClient.connect(port: h.port)
            _ = try await fresh.comment(containing: "heartbeat")
            let y = try await h.enqueueID()
            #expect(try await live.events(1).map(\.jobID) == [y])
            #expect(try await fresh.events(1).map(\.jobID) == [y])
        }
        await onThreadNoThrow { redis.stop() }
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

    /// The follower starts at the stream's end (read from Redis, never a client's
    /// position) and has the subscribers it started for catch up once more; a subscriber
    /// whose buffer overflows is told to catch up from Redis; the follower stops when
    /// nobody listens and starts at the end again when someone does.
    @Test func followerStartsAtTheEndFlagsOverflowAndStopsWhenIdle() async throws {
        try await withAPI("sse-follower") { h in
            let follower = EventFollower(store: h.store, params: ParamsCache(store: h.store), block: 0.2, bufferedBatches: 1)
            defer { follower.close() }
            let store = h.store
            func streamEnd() async throws -> StreamID? { try await store.lastEventID().flatMap { StreamID($0) } }
            _ = try await h.enqueueID()
            let sub = follower.subscribe(tenant: "acme")
            #expect(sub.takeNeedsCatchUp())
            #expect(!sub.takeNeedsCatchUp())
            var iterator = sub.stream.makeAsyncIterator()
            guard case .resync? = await iterator.next() else { Issue.record("no resync"); return }
            #expect(sub.takeNeedsCatchUp(), "caught up before the follower knew where it starts: again")
            #expect(follower.position == (try await streamEnd()))

            // Three batches: each enqueue waits until the follower has read the one before.
            var ids: [String] = []
            for _ in 0..<3 {
                ids.append(try await h.enqueueID())
                let end = try await streamEnd()
                #expect(await eventually { follower.position == end })
            }
            #expect(sub.takeNeedsCatchUp(), "the second and third batches did not fit")
            guard case .events(let batch)? = await iterator.next() else { Issue.record("no batch"); return }
            #expect(batch.map(\.job.id) == [ids[0]])
            #expect(batch[0].job.params == "{}")
            follower.unsubscribe(sub)
            #expect(follower.subscriberCount == 0)
            #expect(await eventually { !follower.isRunning }, "the loop ends after its block")

            _ = try await h.enqueueID()  // while nobody listens: a new subscriber reads it from Redis
            let again = follower.subscribe(tenant: nil)
            var it = again.stream.makeAsyncIterator()
            guard case .resync? = await it.next() else { Issue.record("no resync after the restart"); return }
            #expect(follower.position == (try await streamEnd()))
            let next = try await h.enqueueID()
            guard case .events(let resumed)? = await it.next() else { Issue.record("no batch"); return }
            #expect(resumed.map(\.job.id) == [next])
        }
    }
}
