import QuellTestSupport
import Testing
@testable import Quell

/// Invariant 7: every status or progress change bumps the version by one and
/// emits exactly one event carrying the job at that version.
@Suite("Invariant 7: every change is one event")
struct EventsTests {
    @Test func oneEventPerChangeVersionsWithoutGaps() async throws {
        let store = makeStore("events")
        let job = try await store.enqueue(EnqueueRequest(type: "t", tenant: "acme"))
        let s = try #require(try await store.startJobs().first)
        for i in 1...3 {
            _ = try await store.progress([ProgressReport(id: job.id, lease: s.lease, progress: JobProgress(current: i, total: 3))])
        }
        // A heartbeat is not a change: no event, no version.
        _ = try await store.heartbeat(WorkerRegistration(id: "w1", queues: ["default"], slots: 1, busy: 1, startedAt: store.clock.now()),
                                      jobs: [(job.id, s.lease)])
        _ = try await store.cancel(id: job.id, tenant: "acme")
        _ = try await store.cancel(id: job.id, tenant: "acme")  // repeated: no change, no event
        _ = try await store.confirmCancelled(id: job.id, lease: s.lease, progress: nil)

        let events = try await store.allEvents(of: job.id)
        #expect(events.map(\.job.version) == Array(1...7))
        #expect(events.map(\.job.status) == [.queued, .running, .running, .running, .running, .cancelling, .cancelled])
        #expect(events.map { $0.job.progress?.current } == [nil, nil, 1, 2, 3, 3, 3])
        let final = try await store.job(id: job.id, tenant: nil)
        var last = try #require(events.last?.job)
        last.params = final.params
        last.heartbeatAt = final.heartbeatAt
        #expect(last == final)
        // Resuming after an event id returns exactly what came after it.
        let tail = try await store.events(after: events[3].id)
        #expect(tail.map(\.job.version) == [5, 6, 7])
    }

    /// A call's events are one stream entry (one XADD per call); each event
    /// still has an id of its own, and every read resumes after any of them.
    @Test func aCallsEventsShareAnEntryAndEachHasItsOwnID() async throws {
        let store = makeStore("events-entry")
        let jobs = try await store.enqueue(batch: (0..<3).map { _ in EnqueueRequest(type: "t") }).map { try $0.get() }
        let raw = try await store.redis.send(RedisCommand("XRANGE", store.keys.events, "-", "+"))
        let entries = try raw.expectArray()
        #expect(entries.count == 1)
        let entry = try #require(entries.first?.array?.first?.string)
        let events = try await store.events(after: nil)
        #expect(events.map(\.id) == ["\(entry).0", "\(entry).1", entry])
        #expect(events.map(\.job.id) == jobs.map(\.id))
        #expect(try await store.lastEventID() == entry)
        #expect(try await store.events(after: "\(entry).0").map(\.job.id) == [jobs[1].id, jobs[2].id])
        #expect(try await store.events(after: "\(entry).1").map(\.job.id) == [jobs[2].id])
        #expect(try await store.events(after: entry).isEmpty)
        // Newest first, up to an id inclusive.
        #expect(try await store.latestEvents(count: 2).map(\.job.id) == [jobs[2].id, jobs[1].id])
        #expect(try await store.latestEvents(upTo: "\(entry).1", count: 10).map(\.job.id) == [jobs[1].id, jobs[0].id])
        // A blocking read from part way through an entry answers the rest at once.
        let reader = store.blockingClient(name: "events-entry", commandTimeout: 60)
        defer { reader.close() }
        let rest = try await store.readEvents(after: "\(entry).0", limit: 10, block: 30, on: reader)
        #expect(rest.map(\.id) == ["\(entry).1", entry])
        // A one-job call is an entry of one event, its id the entry's.
        let single = try await store.enqueue(EnqueueRequest(type: "t"))
        let next = try await store.readEvents(after: entry, limit: 10, block: 30, on: reader)
        #expect(next.map(\.job.id) == [single.id])
        #expect(next.first.map { !$0.id.contains(".") } == true)
        await #expect(throws: QuellError.self) { try await store.events(after: "nonsense.x") }
    }

    /// A call with more events than an entry holds (1000) writes several
    /// entries, in order, none lost.
    @Test func aCallWithManyEventsWritesSeveralEntries() async throws {
        let store = makeStore("events-many")
        let jobs = try await store.enqueue(batch: (0..<1001).map { _ in EnqueueRequest(type: "t") }).map { try $0.get() }
        let entries = try await store.redis.send(RedisCommand("XLEN", store.keys.events))
        #expect(entries == .integer(2))
        let events = try await store.allEvents()
        #expect(events.map(\.job.id) == jobs.map(\.id))
        #expect(Set(events.map(\.id)).count == 1001)
    }
}
