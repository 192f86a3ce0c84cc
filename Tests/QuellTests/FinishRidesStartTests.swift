import Foundation
import QuellTestSupport
import Testing
@testable import Quell

/// A finish rides with the start that fills its slot: `finishThenStart` writes
/// both calls in one round trip, and the outcome writer holds a finish for the
/// fetch loop only while that loop is active — never while it blocks for work.
@Suite struct FinishRidesStartTests {
    /// A context for a job started in `store`, held by `running` as the processor holds it.
    private func run(_ s: StartedJob, _ store: JobStore, _ running: RunningJobs) -> JobContext {
        let context = JobContext(job: s.job, lease: s.lease, store: store, startedAs: s.packed)
        running.add(context)
        return context
    }

    @Test func finishThenStartClosesTheFinishedAndStartsTheNextInOneRoundTrip() async throws {
        let store = makeStore("ride-store")
        var ids: [String] = []
        for key in ["a", "b", "c"] { ids.append(try await store.enqueue(EnqueueRequest(type: "t", key: key)).id) }
        let first = try await store.startJobs(2)
        #expect(first.count == 2)
        let reports = first.map { FinishReport(id: $0.job.id, lease: $0.lease, status: .completed, startedAs: $0.packed) }
        let before = store.redis.statistics.roundTrips
        let r = try await store.finishThenStart(reports, worker: "w1", leasePrefix: "w1/2/", queues: ["default"], count: 2)
        #expect(store.redis.statistics.roundTrips - before == 1)
        #expect(r.finished == [.ok, .ok])
        #expect(r.started.map(\.job.id) == [ids[2]] && r.skipped.isEmpty)
        for s in first {
            let job = try await store.job(id: s.job.id, tenant: nil)
            #expect(job.status == .completed && job.version == 3)
        }
        #expect(try await store.job(id: ids[2], tenant: nil).status == .running)
        let stats = try await store.stats(tenant: nil)
        #expect(stats.counts[.completed] == 2 && stats.counts[.running] == 1 && (stats.counts[.queued] ?? 0) == 0)
        // The keys of the finished jobs are free again; the running one's is held.
        _ = try await store.enqueue(EnqueueRequest(type: "t", key: "a"))
        await #expect(throws: QuellError.self) { try await store.enqueue(EnqueueRequest(type: "t", key: "c")) }
        // A finish sent again (as after a lost reply) changes nothing.
        let again = try await store.finishThenStart(reports, worker: "w1", leasePrefix: "w1/3/", queues: ["none"], count: 1)
        #expect(again.finished == [.terminal, .terminal] && again.started.isEmpty)
    }

    @Test func theFinishAndTheStartAreOneCallWhoseEventsComeFinishesFirst() async throws {
        let store = makeStore("ride-one-call")
        for _ in 0..<4 { _ = try await store.enqueue(EnqueueRequest(type: "t")) }
        let first = try await store.startJobs(2)
        let reports = first.map { FinishReport(id: $0.job.id, lease: $0.lease, status: .completed, startedAs: $0.packed) }
        let before = try await store.allEvents().count
        let commands = store.redis.statistics.commands
        let r = try await store.finishThenStart(reports, worker: "w1", leasePrefix: "w1/2/", queues: ["default"], count: 2)
        #expect(store.redis.statistics.commands - commands == 1)
        #expect(r.finished == [.ok, .ok] && r.started.count == 2)
        let events = try await store.allEvents().dropFirst(before)
        #expect(events.map(\.job.status) == [.completed, .completed, .running, .running])
        #expect(events.map(\.job.id) == first.map(\.job.id) + r.started.map(\.job.id))
        // Two finished and two started: the running count nets to the same two.
        let stats = try await store.stats(tenant: nil)
        #expect(stats.counts[.running] == 2 && stats.counts[.completed] == 2 && (stats.counts[.queued] ?? 0) == 0)
        // A finish refused per job (another lease) does not stop the start.
        _ = try await store.enqueue(EnqueueRequest(type: "t"))
        let stale = r.started.map { FinishReport(id: $0.job.id, lease: "not-" + $0.lease, status: .completed) }
        let next = try await store.finishThenStart(stale, worker: "w1", leasePrefix: "w1/3/", queues: ["default"], count: 1)
        #expect(next.finished == [.lost, .lost] && next.started.count == 1)
    }

    @Test func anActiveFetchLoopCarriesTheFinishAndTheWriterForgetsTheRunOnceAnswered() async throws {
        let store = makeStore("ride-carried")
        let running = RunningJobs()
        let writer = OutcomeWriter(store: store, running: running, log: { _ in })
        let job = try await store.enqueue(EnqueueRequest(type: "t"))
        let other = try await store.enqueue(EnqueueRequest(type: "t"))
        let next = try await store.enqueue(EnqueueRequest(type: "t"))
        let started = try await store.startJobs(2)
        let s = try #require(started.first { $0.job.id == job.id })
        let o = try #require(started.first { $0.job.id == other.id })
        let context = run(s, store, running)
        writer.setCarrier(active: true)
        writer.finishInBackground(.completed, error: nil, for: context)
        // Held for the loop, not flushed on its own: the loop finds it.
        let carried = writer.takeCarried()
        #expect(carried.reports.map(\.id) == [job.id])
        // While the loop's call is in flight, a finish goes on its own.
        writer.finishInBackground(.completed, error: nil, for: run(o, store, running))
        #expect(try await store.waitForJob(other.id) { $0.status.isTerminal }.status == .completed)
        let r = try await store.finishThenStart(carried.reports, worker: "w1", leasePrefix: "w1/9/", queues: ["default"], count: 1)
        writer.carried(r.finished, batch: carried.batch)
        #expect(try await store.job(id: job.id, tenant: nil).status == .completed)
        #expect(r.started.map(\.job.id) == [next.id])
        while !running.isEmpty { try await Task.sleep(for: .milliseconds(1)) }  // the lone finish's batch forgets its run once it lands
        writer.setCarrier(active: false)
    }

    @Test func aFinishIsWrittenOnItsOwnWhenTheLoopIsNotActiveOrStopsBeingActive() async throws {
        let store = makeStore("ride-alone")
        let running = RunningJobs()
        let writer = OutcomeWriter(store: store, running: running, log: { _ in })
        for _ in 0..<2 { _ = try await store.enqueue(EnqueueRequest(type: "t")) }
        let started = try await store.startJobs(2)
        #expect(started.count == 2)
        // Not active (blocked for work, say): written at once.
        writer.setCarrier(active: false)
        writer.finishInBackground(.completed, error: nil, for: run(started[0], store, running))
        #expect(try await store.waitForJob(started[0].job.id) { $0.status.isTerminal }.status == .completed)
        // Active, then it goes to block: what it held is written.
        writer.setCarrier(active: true)
        writer.finishInBackground(.completedWithErrors, error: "1 skipped", for: run(started[1], store, running))
        writer.setCarrier(active: false)
        let done = try await store.waitForJob(started[1].job.id) { $0.status.isTerminal }
        #expect(done.status == .completedWithErrors && done.error == "1 skipped")
    }

    @Test func finishesTheLoopCouldNotWriteAreWrittenAgainOnTheirOwn() async throws {
        let store = makeStore("ride-again")
        let running = RunningJobs()
        let writer = OutcomeWriter(store: store, running: running, log: { _ in })
        _ = try await store.enqueue(EnqueueRequest(type: "t"))
        let s = try #require(try await store.startJobs(1).first)
        writer.setCarrier(active: true)
        writer.finishInBackground(.failed, error: "boom", for: run(s, store, running))
        let carried = writer.takeCarried()
        #expect(carried.reports.count == 1)
        writer.carried(nil, batch: carried.batch)  // the round trip failed
        let done = try await store.waitForJob(s.job.id) { $0.status.isTerminal }
        #expect(done.status == .failed && done.error == "boom")
        writer.setCarrier(active: false)
    }

    /// The fetch loop may have two start calls in flight, each carrying its
    /// own finishes: an answer settles its own batch, whichever comes first.
    @Test func twoCallsInFlightEachSettleTheirOwnFinishes() async throws {
        let store = makeStore("ride-two-batches")
        let running = RunningJobs()
        let writer = OutcomeWriter(store: store, running: running, log: { _ in })
        for _ in 0..<2 { _ = try await store.enqueue(EnqueueRequest(type: "t")) }
        let started = try await store.startJobs(2)
        #expect(started.count == 2)
        writer.setCarrier(active: true)
        writer.finishInBackground(.completed, error: nil, for: run(started[0], store, running))
        let first = writer.takeCarried()
        writer.setCarrier(active: true)
        writer.finishInBackground(.failed, error: "boom", for: run(started[1], store, running))
        let second = writer.takeCarried()
        #expect(first.batch != second.batch)
        #expect(first.reports.map(\.id) == [started[0].job.id] && second.reports.map(\.id) == [started[1].job.id])
        // The second call answers first: only its run is forgotten.
        let r = try await store.finishThenStart(second.reports, worker: "w1", leasePrefix: "w1/8/", queues: ["default"], count: 1)
        writer.carried(r.finished, batch: second.batch)
        #expect(r.finished == [.ok])
        #expect(running.ids == [started[0].job.id])
        #expect(try await store.job(id: started[0].job.id, tenant: nil).status == .running)
        // The first call failed: its finish is written again on its own.
        writer.setCarrier(active: false)
        writer.carried(nil, batch: first.batch)
        #expect(try await store.waitForJob(started[0].job.id) { $0.status.isTerminal }.status == .completed)
        let failed = try await store.job(id: started[1].job.id, tenant: nil)
        #expect(failed.status == .failed && failed.error == "boom")
        while !running.ids.isEmpty { try await Task.sleep(for: .milliseconds(1)) }  // the rewrite forgets its run once it lands
    }
}
