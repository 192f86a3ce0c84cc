import QuellTestSupport
import Foundation
import Testing
@testable import Quell
import QuellDemo

/// Invariant 3 with `kill -9`: a fetched job is never lost, and never runs
/// on two workers at once.
@Suite("Worker: kill -9")
struct WorkerKillTests {
    @Test func killedWorkersJobIsRecoveredElsewhere() async throws {
        let store = makeStore("w-kill")
        let first = try WorkerProcess(store: store, heartbeat: 0.5, stale: 2)
        try await store.waitForWorkers(1)
        // Runs until told to stop, so it is still running on the victim
        // whenever the kill comes, however slow the machine.
        let job = try await store.enqueue(EnqueueRequest(type: "demo.sleep", params: .object(["ms": .number(3_600_000), "log": .bool(true)])))
        let running = try await store.waitForJob(job.id) { $0.status == .running }
        let victim = try #require(running.worker)
        let second = try WorkerProcess(store: store, heartbeat: 0.5, stale: 2)
        try await store.waitForWorkers(2)
        let logKey = DemoTasks.executionLogKey(store, job: job.id)
        try await waitForLog(store, logKey, entries: 1)  // the victim's run has begun
        first.process.signal(SIGKILL)
        _ = await first.process.exitCode(timeout: 30)
        let killedAt = Date()
        // Recovered by the other worker: stale-after (2 s) plus a few sweeps.
        let recovered = try await store.waitForJob(job.id) { $0.status == .running && $0.worker != nil && $0.worker != victim }
        #expect(recovered.attempt == 2, "\(second.log)")

        // The execution log: the second run starts only after the first stopped (killed).
        let entries = try await waitForLog(store, logKey, entries: 2).map { $0.split(separator: " ") }
        #expect(entries.map { String($0[0]) } == ["start", "start"], "\(entries)")
        #expect(String(entries[0][1]) == victim && String(entries[1][1]) != victim)
        let secondStart = Double(entries[1][2])! / 1_000_000
        #expect(secondStart >= killedAt.timeIntervalSince1970 - 0.05)

        // Nothing is left behind: the recovered run obeys a cancel and ends.
        _ = try await store.cancel(id: job.id, tenant: nil)
        let final = try await store.waitForJob(job.id) { $0.status.isTerminal }
        #expect(final.status == .cancelled && final.attempt == 2, "\(second.log)")
    }

    @discardableResult
    private func waitForLog(_ store: JobStore, _ key: String, entries n: Int) async throws -> [String] {
        let end = Date().addingTimeInterval(60)
        while true {
            let log = try await store.redis.send(RedisCommand("LRANGE", key, 0, -1))
            let entries = (log.array ?? []).compactMap(\.string)
            if entries.count >= n { return entries }
            if Date() > end { throw QuellError.invalid("execution log has \(entries) after 60 s") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
