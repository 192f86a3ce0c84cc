import QuellTestSupport
import Foundation
import Testing
@testable import Quell

/// Invariant 3 with `kill -9`: a fetched job is never lost, and never runs
/// on two workers at once.
@Suite("Worker: kill -9")
struct WorkerKillTests {
    @Test func killedWorkersJobIsRecoveredElsewhere() async throws {
        let store = makeStore("w-kill")
        let first = try WorkerProcess(store: store, heartbeat: 0.5, stale: 2)
        let job = try await store.enqueue(EnqueueRequest(type: "demo.sleep", params: .object(["ms": .number(1500), "log": .bool(true)])))
        let running = try await store.waitForJob(job.id) { $0.status == .running }
        let victim = try #require(running.worker)
        let second = try WorkerProcess(store: store, heartbeat: 0.5, stale: 2)
        try await store.waitForWorkers(2)
        first.process.signal(SIGKILL)
        first.process.wait(timeout: 5)
        let killedAt = Date()
        let recovered = try await store.waitForJob(job.id, 5) { $0.status.isTerminal || ($0.status == .running && $0.worker != victim) }
        #expect(Date().timeIntervalSince(killedAt) < 5)
        let final = try await store.waitForJob(job.id, 10) { $0.status.isTerminal }
        #expect(final.status == .completed && final.attempt == 2, "\(second.log)")
        #expect(recovered.worker != victim)

        // The execution log: the second run starts only after the first stopped (killed).
        let log = try await store.redis.send(RedisCommand("LRANGE", DemoTasks.executionLogKey(store, job: job.id), 0, -1))
        let entries = (log.array ?? []).compactMap(\.string).map { $0.split(separator: " ") }
        #expect(entries.map { String($0[0]) } == ["start", "start", "end"], "\(entries)")
        let secondStart = Double(entries[1][2])! / 1000
        #expect(String(entries[0][1]) == victim && String(entries[1][1]) != victim)
        #expect(secondStart >= killedAt.timeIntervalSince1970 - 0.05)
    }
}
