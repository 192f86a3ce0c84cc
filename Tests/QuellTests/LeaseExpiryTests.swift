import QuellTestSupport
import Foundation
import Synchronization
import Testing
@testable import Quell

/// A worker that was frozen (SIGSTOP) past stale-after has had its jobs taken
/// over; once it thaws, its handlers stop at their next checkpoint — with no
/// round trip, before any heartbeat answers "lost" — and write nothing.
@Suite("Lease expiry at the checkpoint")
struct LeaseExpiryTests {
    @Test func aHandlerWithNoConfirmedBeatForStaleAfterStopsAtItsCheckpoint() async throws {
        let clock = ManualClock(Date())
        var config = QuellConfiguration(redisURL: TestRedis.url, prefix: TestRedis.prefix("lease-expiry"))
        config.staleAfter = 10
        config.heartbeatInterval = 3_600  // one beat at start, then none: only the checkpoint can notice
        let store = JobStore(redis: TestRedis.client("lease-expiry"), configuration: config, clock: clock)
        let stops = Mutex<[String]>([])
        let checkpoints = Atomic<Int>(0)
        let registry = TaskRegistry()
        registry.register("test.loop", params: EmptyParams.self) { _, context in
            do {
                while true {  // runs until told to stop
                    try context.checkpoint()
                    checkpoints.add(1, ordering: .relaxed)
                    try await Task.sleep(for: .milliseconds(2))
                }
            } catch {
                stops.withLock { $0.append("\(context.stopReason.map(\.rawValue) ?? "none")") }
                throw error
            }
        }
        let worker = Worker(store: store, registry: registry,
                            options: Worker.Options(id: "lease-worker", cancelPush: false, runReaper: false))
        worker.start()
        let job = try await store.enqueue(EnqueueRequest(type: "test.loop"))
        _ = try await store.waitForJob(job.id) { $0.status == .running }
        while checkpoints.load(ordering: .relaxed) < 3 { try await Task.sleep(for: .milliseconds(2)) }
        #expect(stops.withLock { $0 }.isEmpty)

        clock.advance(by: 11)  // as if frozen for 11 s: no beat confirmed for more than stale-after
        let end = Date().addingTimeInterval(30)
        while stops.withLock({ $0 }).isEmpty && Date() < end { try await Task.sleep(for: .milliseconds(5)) }
        #expect(stops.withLock { $0 } == ["lost"])
        while worker.busy > 0 && Date() < end { try await Task.sleep(for: .milliseconds(5)) }
        #expect(worker.busy == 0, "the slot is free")
        // Lost: nothing written. The job is the reaper's (or its new run's) now.
        let seen = try await store.job(id: job.id, tenant: nil)
        #expect(seen.status == .running && seen.attempt == 1 && seen.worker == "lease-worker")
        await worker.shutdown(grace: 1)
    }
}
