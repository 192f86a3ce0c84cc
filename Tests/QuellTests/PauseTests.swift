import QuellTestSupport
import QuellDemo
import Foundation
import Testing
@testable import Quell

/// Pause and resume from another process while the job runs in a real
/// `quell worker` process (the issue's acceptance): the push, the heartbeat
/// fallback when the push is lost, the cursor kept, the key held, cancel of
/// a paused job, and a resumed sync that completes with the right totals.
@Suite("Pause and resume: real workers", .serialized)
struct PauseTests {
    /// The push alone: the worker beats once an hour and the job (demo.sleep)
    /// writes no progress, so nothing but the pushed pause can reach it.
    @Test func aPushedPauseStopsTheRunningJobAndItKeepsItsKey() async throws {
        let store = makeStore("pause-push")
        let worker = try WorkerProcess(store: store, concurrency: 1, heartbeat: 3600, stale: 7200)
        try await store.waitForWorkers(1)
        // Runs until told to stop (an hour).
        let job = try await store.enqueue(EnqueueRequest(type: "demo.sleep", params: .object(["ms": .number(3_600_000)]), key: "drive-1"))
        _ = try await store.waitForJob(job.id) { $0.status == .running }
        let asked = try await store.pause(id: job.id, tenant: nil)
        #expect(asked.status == .pausing)
        let paused = try await store.waitForJob(job.id) { $0.status == .paused }
        #expect(paused.worker == nil && paused.heartbeatAt == nil && paused.deadlineAt == nil && paused.attempt == 0, "\(worker.log)")
        #expect(worker.log.contains("outcome=paused"), "the run ends with its own outcome: \(worker.log)")
        // The slot is free: the worker (one slot) runs another job.
        let other = try await store.enqueue(EnqueueRequest(type: "demo.noop"))
        _ = try await store.waitForJob(other.id) { $0.status == .completed }
        // A trigger on the paused key: 409 with the paused job.
        do {
            _ = try await store.enqueue(EnqueueRequest(type: "demo.sleep", key: "drive-1"))
            Issue.record("the paused job's key was given away")
        } catch {
            guard case .conflict(let holder) = error else { throw error }
            #expect(holder.id == job.id && holder.status == .paused)
        }
        // Cancel of a paused job: cancelled at once, and the key is free.
        let cancelled = try await store.cancel(id: job.id, tenant: nil)
        #expect(cancelled.status == .cancelled)
        #expect(try await store.enqueue(EnqueueRequest(type: "demo.noop", key: "drive-1")).status == .queued)
    }

    /// The push lost: no pub/sub listener at all, and demo.sleep writes no
    /// progress, so only the heartbeat's reply can deliver the pause. Resume
    /// runs it again (attempt 1 again: the paused run gave its attempt back).
    @Test func aPauseLandsThroughTheHeartbeatWhenThePushIsLost() async throws {
        let store = makeStore("pause-nopush")
        let worker = try WorkerProcess(store: store, heartbeat: 0.5, environment: ["QUELL_CANCEL_PUSH": "0"])
        let job = try await store.enqueue(EnqueueRequest(type: "demo.sleep", params: .object(["ms": .number(3_600_000)])))
        _ = try await store.waitForJob(job.id) { $0.status == .running }
        _ = try await store.pause(id: job.id, tenant: nil)
        let paused = try await store.waitForJob(job.id) { $0.status.isTerminal || $0.status == .paused }
        #expect(paused.status == .paused, "\(worker.log)")
        let resumed = try await store.resume(id: job.id, tenant: nil)
        #expect(resumed.status == .queued && resumed.resumes == 1)
        let again = try await store.waitForJob(job.id) { $0.status == .running }
        #expect(again.attempt == 1 && again.resumes == 1)
        _ = try await store.cancel(id: job.id, tenant: nil)
        #expect(try await store.waitForJob(job.id) { $0.status.isTerminal }.status == .cancelled)
    }

    /// A sync paused mid-run stops at a checkpoint with its cursor saved
    /// first (the counters are the items written, the cursor right after
    /// them); resumed, it continues from the cursor — the source's reads show
    /// nothing before it was fetched again — and completes with the right totals.
    ///
    /// The sync is incremental over a source of a million items, so it runs
    /// until told to stop; once paused, an item a known distance past the
    /// cursor is marked synced, which is where the resumed run must end.
    @Test func aPausedSyncResumesFromItsCursorAndCompletesWithTheRightTotals() async throws {
        let store = makeStore("pause-sync")
        let worker = try WorkerProcess(store: store, heartbeat: 0.5)
        try await store.waitForWorkers(1)
        let batch = 10
        let job = try await store.enqueue(EnqueueRequest(type: "demo.sync", params: .object([
            "total": .number(1_000_000), "batch": .number(JSONNumber(batch)), "delay_ms": .number(2),
            "mode": .string("incremental"), "source": .string("pause-me")])))
        let synced = DemoTasks.syncedKey(store, tenant: "default", source: "pause-me")
        let reads = DemoTasks.readsKey(store.keys, tenant: "default", source: "pause-me")
        while try await store.redisCommand("SCARD", synced).int ?? 0 < 50 { try await Task.sleep(for: .milliseconds(5)) }
        _ = try await store.pause(id: job.id, tenant: nil)
        let paused = try await store.waitForJob(job.id) { $0.status.isTerminal || $0.status == .paused }
        #expect(paused.status == .paused, "\(worker.log)")
        // Repeating the pause answers the same and changes nothing.
        #expect(try await store.pause(id: job.id, tenant: nil).version == paused.version)

        let cursorText = try #require(try await store.redisCommand("HGET", store.keys.job(job.id), "cursor").string)
        let next = try #require(try JSONValue.parse(cursorText)["next"]?.intValue)
        let written = try await store.redisCommand("SCARD", synced).int ?? -1
        let readAtPause = try await store.redisCommand("GET", reads).string.flatMap { Int($0) } ?? -1
        #expect(paused.progress?.counters["synced"] == written && written == next,
                "counters, cursor and the items written agree: \(String(describing: paused.progress)), next \(next), \(written) written")
        #expect(readAtPause == next || readAtPause == next + batch, "at most the page in flight fetched past the cursor: \(readAtPause)")

        // Where the resumed run will stop: 20 pages past the cursor.
        let end = next + 20 * batch
        try await store.redisCommand("SADD", synced, "pause-me-item-" + String(repeating: "0", count: 6 - String(end).count) + String(end))
        let resumed = try await store.resume(id: job.id, tenant: nil)
        #expect(resumed.status == .queued && resumed.resumes == 1)
        let final = try await store.waitForJob(job.id) { $0.status.isTerminal }
        #expect(final.status == .completed && final.resumes == 1 && final.attempt == 1, "\(worker.log)")
        #expect(final.progress?.counters["synced"] == end, "\(String(describing: final.progress))")
        #expect(try await store.redisCommand("SCARD", synced).int == end + 1, "every item up to the end once, and the marker")
        let readAfter = (try await store.redisCommand("GET", reads).string.flatMap { Int($0) } ?? -1) - readAtPause
        #expect(readAfter == end - next + batch, "the resumed run fetched from its cursor on (and the page it stopped in), nothing before: \(readAfter)")
        // Terminal: pause and resume answer 409 with the job.
        await #expect(throws: QuellError.self) { try await store.pause(id: job.id, tenant: nil) }
        await #expect(throws: QuellError.self) { try await store.resume(id: job.id, tenant: nil) }
    }
}
