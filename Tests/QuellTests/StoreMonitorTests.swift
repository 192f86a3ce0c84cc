import QuellTestSupport
import Foundation
import Testing
@testable import Quell

/// The store's reads for dashboards and probes: `latestEvents`, `heartbeats(of:)`,
/// `serverTime`, `ping`.
@Suite struct StoreMonitorTests {
    @Test func latestEventsNewestFirstUpToAnIdInclusive() async throws {
        let store = makeStore("monitor-latest")
        #expect(try await store.latestEvents(count: 5).isEmpty)
        var ids: [String] = []
        for _ in 0..<3 { ids.append(try await store.enqueue(EnqueueRequest(type: "t")).id) }
        let all = try await store.latestEvents(count: 10)
        #expect(all.map(\.job.id) == ids.reversed())
        #expect(try await store.latestEvents(count: 2).map(\.job.id) == [ids[2], ids[1]])
        let upTo = try await store.latestEvents(upTo: all[1].id, count: 10)
        #expect(upTo.map(\.job.id) == [ids[1], ids[0]])
        #expect(try await store.lastEventID() == all[0].id)
    }

    @Test func heartbeatsOfRunningJobsAbsentWhenDeletedAndErrorsThrow() async throws {
        let clock = ManualClock()
        let store = makeStore("monitor-beats", clock: clock)
        let job = try await store.enqueue(EnqueueRequest(type: "t"))
        let queued = try await store.heartbeats(of: [job.id])
        #expect(queued[job.id] == JobHeartbeat(status: .queued, heartbeatAt: nil))
        let started = try #require(try await store.startJobs().first)
        // Before its first heartbeat, a run's beat is its start (start writes no heartbeat_at).
        #expect(try await store.heartbeats(of: [job.id])[job.id] == JobHeartbeat(status: .running, heartbeatAt: started.job.startedAt))
        #expect(started.job.startedAt != nil)
        clock.advance(by: 1.5)
        _ = try await store.heartbeat(WorkerRegistration(id: "w1", queues: ["default"], slots: 1, busy: 1, startedAt: clock.now()),
                                      jobs: [(job.id, started.lease)])
        let gone = JobID.make(at: clock.now())
        let beats = try await store.heartbeats(of: [job.id, gone, "not an id"])
        #expect(beats.count == 1)
        #expect(beats[job.id]?.status == .running)
        #expect(beats[job.id]?.heartbeatAt.map { abs($0.timeIntervalSince(clock.now())) < 0.002 } == true)
        #expect(try await store.heartbeats(of: []).isEmpty)
        // An error reply (here WRONGTYPE) is an error, not "deleted".
        _ = try await store.redis.send(RedisCommand("SET", store.keys.job(gone), "not a hash"))
        await #expect(throws: QuellError.self) { try await store.heartbeats(of: [job.id, gone]) }
    }

    @Test func serverTimeAndPing() async throws {
        let store = makeStore("monitor-time")
        try await store.ping()
        let t = try await store.serverTime()
        #expect(abs(t.timeIntervalSinceNow) < 5)
        store.close()
        await #expect {
            try await store.ping()
        } throws: { error in
            if case .unavailable = error as? QuellError { return true }
            return false
        }
    }
}
