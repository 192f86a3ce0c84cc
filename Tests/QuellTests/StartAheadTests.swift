import QuellTestSupport
import Foundation
import Synchronization
import Testing
@testable import Quell

/// Starting ahead (`Worker.Options.startsAhead`): after short runs a start
/// may take more jobs than free slots; such a job is `running` but its
/// handler waits for a slot. A cancel reaches it at once, a long wait gives
/// it back, shutdown gives it back, and after long runs nothing starts ahead.
@Suite("Worker: starting ahead of a free slot")
struct StartAheadTests {
    struct NoParams: Decodable, Sendable {}

    /// One slot; `t.quick` returns at once, `t.block` runs until `open`,
    /// `t.slow` takes 10 ms, `t.held` records that its handler ran.
    final class World: Sendable {
        let store: JobStore
        let registry = TaskRegistry()
        let open = Atomic<Bool>(false)
        let heldRan = Atomic<Int>(0)

        init(_ name: String) {
            store = makeStore(name)
            registry.register("t.quick", params: NoParams.self) { _, _ in .completed }
            registry.register("t.slow", params: NoParams.self) { _, _ in
                try await Task.sleep(for: .milliseconds(10))
                return .completed
            }
            registry.register("t.held", params: NoParams.self) { [self] _, _ in
                heldRan.add(1, ordering: .sequentiallyConsistent)
                return .completed
            }
            registry.register("t.block", params: NoParams.self) { [self] _, context in
                while !open.load(ordering: .sequentiallyConsistent) {  // runs until told to stop
                    try context.checkpoint()
                    try await Task.sleep(for: .milliseconds(2))
                }
                return .completed
            }
        }

        func worker(waitLimit: Duration = .seconds(600)) -> Worker {
            var options = Worker.Options(concurrency: 1)
            options.aheadWaitLimit = waitLimit
            return Worker(store: store, registry: registry, options: options)
        }

        /// Runs `type` jobs one after another to completion (one slot: each a run of its own).
        func runInTurn(_ type: String, _ n: Int) async throws {
            for _ in 0..<n {
                let job = try await store.enqueue(EnqueueRequest(type: type))
                let done = try await store.waitForJob(job.id) { $0.status.isTerminal }
                #expect(done.status == .completed)
            }
        }

        /// `t.block` then `t.held`, queued together (one call): the worker's
        /// next start sees both.
        func enqueueBlockAndHeld() async throws -> (block: Job, held: Job) {
            let jobs = try await store.enqueue(batch: [EnqueueRequest(type: "t.block"), EnqueueRequest(type: "t.held")])
            return (try jobs[0].get(), try jobs[1].get())
        }
    }

    @Test func afterShortRunsAStartTakesAJobAheadWhoseCancelLandsAtOnce() async throws {
        let w = World("ahead-cancel")
        let worker = w.worker()
        let run = Task { await worker.run() }
        try await w.runInTurn("t.quick", 2)
        let (block, held) = try await w.enqueueBlockAndHeld()
        _ = try await w.store.waitForJob(block.id) { $0.status == .running }
        // Started in the same call as the blocker: running, its handler not called.
        let waiting = try await w.store.job(id: held.id, tenant: nil)
        #expect(waiting.status == .running && waiting.attempt == 1)
        #expect(w.heldRan.load(ordering: .sequentiallyConsistent) == 0 && worker.busy == 1)
        // The one slot is the blocker's; the cancel does not wait for it.
        _ = try await w.store.cancel(id: held.id, tenant: nil)
        let cancelled = try await w.store.waitForJob(held.id) { $0.status.isTerminal }
        #expect(cancelled.status == .cancelled)
        #expect(try await w.store.job(id: block.id, tenant: nil).status == .running)
        #expect(w.heldRan.load(ordering: .sequentiallyConsistent) == 0)
        w.open.store(true, ordering: .sequentiallyConsistent)
        #expect(try await w.store.waitForJob(block.id) { $0.status.isTerminal }.status == .completed)
        #expect(w.heldRan.load(ordering: .sequentiallyConsistent) == 0)
        run.cancel()  // a graceful shutdown
        await run.value
    }

    @Test func aJobAheadThatWaitsTooLongGoesBackToTheFrontOfItsQueue() async throws {
        let w = World("ahead-give-back")
        let worker = w.worker(waitLimit: .milliseconds(100))
        let run = Task { await worker.run() }
        try await w.runInTurn("t.quick", 2)
        let (block, held) = try await w.enqueueBlockAndHeld()
        _ = try await w.store.waitForJob(block.id) { $0.status == .running }
        let back = try await w.store.waitForJob(held.id) { $0.status == .queued }
        #expect(back.attempt == 0 && back.error?.contains("given back") == true)
        #expect(w.heldRan.load(ordering: .sequentiallyConsistent) == 0)
        // Runs are long now (the blocker's has not returned): with the slot
        // taken, nothing more starts — the given-back job is still queued.
        #expect(try await w.store.job(id: block.id, tenant: nil).status == .running)
        w.open.store(true, ordering: .sequentiallyConsistent)
        let done = try await w.store.waitForJob(held.id) { $0.status.isTerminal }
        #expect(done.status == .completed && done.attempt == 1)
        #expect(w.heldRan.load(ordering: .sequentiallyConsistent) == 1)
        let statuses = try await w.store.allEvents(of: held.id).map(\.job.status)
        #expect(statuses == [.queued, .running, .queued, .running, .completed])
        run.cancel()  // a graceful shutdown
        await run.value
    }

    @Test func shutdownGivesBackAJobAheadAtOnceAndLetsTheRunningOneFinish() async throws {
        let w = World("ahead-shutdown")
        let worker = w.worker()
        let run = Task { await worker.run() }
        try await w.runInTurn("t.quick", 2)
        let (block, held) = try await w.enqueueBlockAndHeld()
        _ = try await w.store.waitForJob(block.id) { $0.status == .running }
        #expect(try await w.store.job(id: held.id, tenant: nil).status == .running)
        run.cancel()  // a graceful shutdown: the blocker may finish within the grace
        // Given back without waiting for the grace or the blocker.
        let back = try await w.store.waitForJob(held.id) { $0.status == .queued }
        #expect(back.attempt == 0)
        #expect(try await w.store.job(id: block.id, tenant: nil).status == .running)
        w.open.store(true, ordering: .sequentiallyConsistent)
        await run.value
        #expect(try await w.store.job(id: block.id, tenant: nil).status == .completed)
        #expect(try await w.store.job(id: held.id, tenant: nil).status == .queued)
        #expect(w.heldRan.load(ordering: .sequentiallyConsistent) == 0)
    }

    @Test func afterLongRunsAStartTakesOnlyWhatTheFreeSlotsRun() async throws {
        let w = World("ahead-long-runs")
        let worker = w.worker()
        let run = Task { await worker.run() }
        try await w.runInTurn("t.slow", 2)
        let (block, held) = try await w.enqueueBlockAndHeld()
        _ = try await w.store.waitForJob(block.id) { $0.status == .running }
        // A start that took both would have made both running in one call.
        #expect(try await w.store.job(id: held.id, tenant: nil).status == .queued)
        w.open.store(true, ordering: .sequentiallyConsistent)
        #expect(try await w.store.waitForJob(held.id) { $0.status.isTerminal }.status == .completed)
        run.cancel()  // a graceful shutdown
        await run.value
    }

    @Test func turnsAreFirstComeFirstServedAndACancelledWaitTakesNone() async throws {
        let turns = HandlerTurns(slots: 1)
        #expect(await turns.acquire(lease: "a") == .turn)
        let b = Task { await turns.acquire(lease: "b") }
        while turns.waiting < 1 { await Task.yield() }
        let c = Task { await turns.acquire(lease: "c") }
        while turns.waiting < 2 { await Task.yield() }
        let d = Task { await turns.acquire(lease: "d") }
        while turns.waiting < 3 { await Task.yield() }
        d.cancel()
        #expect(await d.value == .cancelled)
        turns.release(lease: "a")
        turns.release(lease: "a")  // a second release of the same turn frees nothing
        // The first to wait gets it; the second still waits.
        #expect(await b.value == .turn && turns.running == 1 && turns.waiting == 1)
        turns.release(lease: "b")
        #expect(await c.value == .turn)
        let e = Task { await turns.acquire(lease: "e") }
        while turns.waiting < 1 { await Task.yield() }
        #expect(turns.giveBack(waitingSince: nil) == 1)
        #expect(await e.value == .givenBack)
        #expect(await turns.acquire(lease: "f") == .givenBack)  // closed: every later wait too
        #expect(await turns.oldestWaiter() == nil)
    }
}
