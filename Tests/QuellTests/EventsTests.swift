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
}
