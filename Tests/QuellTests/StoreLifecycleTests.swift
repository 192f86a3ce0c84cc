import QuellTestSupport
import Foundation
import Testing
@testable import Quell

@Suite("Store lifecycle")
struct StoreLifecycleTests {
    @Test func enqueueStartProgressFinish() async throws {
        let store = makeStore("life")
        let queued = try await store.enqueue(EnqueueRequest(type: "demo.sync", params: .object(["mode": .string("full")]),
                                                            tenant: "acme", key: "onedrive:kb-42"))
        #expect(queued.status == .queued && queued.version == 1 && queued.attempt == 0)
        #expect(JobID.isValid(queued.id))
        let read = try await store.job(id: queued.id, tenant: "acme")
        #expect(read == queued)

        let started = try #require(try await store.startJobs().first)
        #expect(started.job.id == queued.id)
        #expect(started.job.status == .running && started.job.attempt == 1 && started.job.version == 2)
        #expect(started.job.params == #"{"mode":"full"}"#)
        #expect(started.job.deadlineAt != nil && started.job.expectedDurationSeconds == 300)

        let p = JobProgress(stage: "processing_files", percent: 45.2, current: 9, total: 20, counters: ["synced": 8, "failed": 1])
        let answer = try await store.progress([ProgressReport(id: queued.id, lease: started.lease, progress: p)])
        #expect(answer.first?.signal == .ok)
        let running = try await store.job(id: queued.id, tenant: "acme")
        #expect(running.progress == p && running.version == 3)
        #expect(running.expectedDurationSeconds == 500)  // 300 + 10 × 20

        let done = try await store.finish([FinishReport(id: queued.id, lease: started.lease, status: .completedWithErrors)])
        #expect(done == [.ok])
        let final = try await store.job(id: queued.id, tenant: "acme")
        #expect(final.status == .completedWithErrors && final.version == 4 && final.completedAt != nil)
        #expect(final.progress?.counters == ["synced": 8, "failed": 1])

        let stats = try await store.stats(tenant: "acme")
        #expect(stats.counts[.completedWithErrors] == 1 && stats.counts[.running] == 0 && stats.counts[.queued] == 0)
        #expect(stats.queues == [QueueDepth(name: "default", depth: 0, scheduled: 0)])
    }

    @Test func jobJSONHasTheDesignShape() async throws {
        let store = makeStore("json")
        let job = try await store.enqueue(EnqueueRequest(type: "demo.sync", params: .object(["n": .number(1)]), tenant: "acme"))
        let object = try JSONValue.parse(job.json)
        let keys = Set(try #require(object.objectValue).keys)
        #expect(keys == ["id", "type", "queue", "tenant", "key", "status", "params", "progress", "attempt",
                         "max_attempts", "version", "created_at", "started_at", "heartbeat_at", "completed_at",
                         "deadline_at", "expected_duration_seconds", "worker", "error", "cancel", "headers",
                         "paused_at", "resumes"])
        #expect(object["key"] == .null && object["completed_at"] == .null && object["cancel"] == .null)
        #expect(object["params"] == .object(["n": .number(1)]))
        let created = try #require(object["created_at"]?.stringValue)
        #expect(created.hasSuffix("Z") && created.count == 24)  // 2026-11-24T01:02:03.456Z
    }

    @Test func idsAreUniqueAndTimeOrdered() {
        var previous = ""
        var seen = Set<String>()
        for _ in 0..<10_000 {
            let id = JobID.make()
            #expect(id > previous)
            previous = id
            seen.insert(id)
        }
        #expect(seen.count == 10_000)
        #expect(JobID.make(at: Date(timeIntervalSince1970: 1)) < JobID.make(at: Date(timeIntervalSince1970: 2)))
    }

    @Test func listingPagesNewestFirst() async throws {
        let store = makeStore("list")
        var ids: [String] = []
        for i in 0..<25 {
            ids.append(try await store.enqueue(EnqueueRequest(type: "t", tenant: "acme", key: i % 5 == 0 ? "k" : nil)).id)
            if i % 5 == 0 { _ = try await store.cancel(id: ids.last!, tenant: "acme") }
        }
        var seen: [String] = []
        var cursor: String? = nil
        repeat {
            let page = try await store.jobs(tenant: "acme", limit: 10, cursor: cursor)
            seen += page.jobs.map(\.id)
            cursor = page.nextCursor
        } while cursor != nil
        #expect(seen == ids.reversed())
        let queued = try await store.jobs(status: .queued, tenant: "acme", limit: 100)
        #expect(queued.jobs.count == 20 && queued.nextCursor == nil)
        let keyed = try await store.jobs(status: .cancelled, key: "k", tenant: "acme", limit: 2)
        #expect(keyed.jobs.map(\.id) == [ids[20], ids[15]])
        let admin = try await store.jobs(tenant: nil, limit: 100)
        #expect(admin.jobs.count == 25)
        await #expect(throws: QuellError.self) { _ = try await store.jobs(tenant: "acme", cursor: "nope") }
    }

    /// Running jobs are listed from the active set (they have no status
    /// index): newest first, paged, per tenant, cancelling ones left out.
    @Test func runningJobsAreListedFromTheActiveSet() async throws {
        let store = makeStore("list-running")
        var acme: [String] = []
        for i in 0..<7 {
            let tenant = i % 3 == 2 ? "globex" : "acme"
            let id = try await store.enqueue(EnqueueRequest(type: "t", tenant: tenant)).id
            if tenant == "acme" { acme.append(id) }
        }
        #expect(try await store.startJobs(7).count == 7)
        _ = try await store.cancel(id: acme[1], tenant: "acme")  // running -> cancelling
        let expected = acme.filter { $0 != acme[1] }.reversed() as [String]
        var seen: [String] = []
        var pages = 0
        var cursor: String? = nil
        repeat {
            let page = try await store.jobs(status: .running, tenant: "acme", limit: 2, cursor: cursor)
            #expect(page.jobs.allSatisfy { $0.status == .running && $0.tenant == "acme" })
            seen += page.jobs.map(\.id)
            cursor = page.nextCursor
            pages += 1
        } while cursor != nil
        #expect(seen == expected)
        #expect(pages == 2)  // 4 jobs in pages of 2: the last page says there is no more
        #expect(try await store.jobs(status: .running, tenant: nil, limit: 100).jobs.count == 6)
        #expect(try await store.jobs(status: .cancelling, tenant: "acme").jobs.map(\.id) == [acme[1]])
        #expect(try await store.stats(tenant: "acme").counts[.running] == 4)
    }

    @Test func invalidRequestsAreRejectedClearly() async throws {
        let store = makeStore("invalid")
        let bad: [(EnqueueRequest, String)] = [
            (EnqueueRequest(type: ""), "type"),
            (EnqueueRequest(type: "a b"), "type"),
            (EnqueueRequest(type: "t", tenant: "a:b"), "tenant"),
            (EnqueueRequest(type: "t", queue: ""), "queue"),
            (EnqueueRequest(type: "t", key: ""), "key"),
            (EnqueueRequest(type: "t", maxAttempts: 0), "max_attempts"),
            (EnqueueRequest(type: "t", timeout: -1), "timeout"),
        ]
        for (request, field) in bad {
            do {
                _ = try await store.enqueue(request)
                Issue.record("accepted a request with a bad \(field)")
            } catch {
                guard case .invalid(let message) = error else { Issue.record("got \(error)"); continue }
                #expect(message.contains(field))
            }
        }
    }

    @Test func retryWithDelayThenForward() async throws {
        let clock = ManualClock()
        let store = makeStore("retry", clock: clock)
        let job = try await store.enqueue(EnqueueRequest(type: "t"))
        let s = try #require(try await store.startJobs().first)
        #expect(try await store.retry(id: job.id, lease: s.lease, delay: 5, error: "boom", progress: nil, refund: false) == .ok)
        let waiting = try await store.job(id: job.id, tenant: nil)
        #expect(waiting.status == .queued && waiting.attempt == 1 && waiting.error == "boom")
        #expect(try await store.startJobs().isEmpty)             // not due yet
        #expect(try await store.forward(queues: ["default"]) == 0)
        clock.advance(by: 6)
        #expect(try await store.forward(queues: ["default"]) == 1)
        let again = try #require(try await store.startJobs().first)
        #expect(again.job.attempt == 2)
        // Shutdown requeue: front of the queue, attempt refunded.
        #expect(try await store.retry(id: job.id, lease: again.lease, delay: 0, error: "", progress: nil, refund: true) == .ok)
        #expect(try await store.job(id: job.id, tenant: nil).attempt == 1)
        #expect(try await store.startJobs().first?.job.attempt == 2)
    }
}
