import QuellTestSupport
import Foundation
import Testing
@testable import Quell

/// Invariant 2: at most one non-terminal job per dedupe key.
@Suite("Invariant 2: one at a time per key")
struct DedupeTests {
    @Test func secondTriggerGetsTheRunningJob() async throws {
        let store = makeStore("dedupe")
        let first = try await store.enqueue(EnqueueRequest(type: "sync", tenant: "acme", key: "onedrive:kb-42"))
        let s = try #require(try await store.startJobs().first)
        _ = try await store.progress([ProgressReport(id: first.id, lease: s.lease, progress: JobProgress(current: 3, total: 10))])
        do {
            _ = try await store.enqueue(EnqueueRequest(type: "sync", tenant: "acme", key: "onedrive:kb-42"))
            Issue.record("second job accepted")
        } catch {
            guard case .conflict(let holder) = error else { Issue.record("got \(error)"); return }
            #expect(holder.id == first.id && holder.status == .running && holder.progress?.current == 3)
        }
        // Same key in another tenant is another resource.
        _ = try await store.enqueue(EnqueueRequest(type: "sync", tenant: "globex", key: "onedrive:kb-42"))
        // Cancelling does not release the key until the work has stopped.
        _ = try await store.cancel(id: first.id, tenant: "acme")
        await #expect(throws: QuellError.self) { _ = try await store.enqueue(EnqueueRequest(type: "sync", tenant: "acme", key: "onedrive:kb-42")) }
        _ = try await store.confirmCancelled(id: first.id, lease: s.lease, progress: nil)
        let next = try await store.enqueue(EnqueueRequest(type: "sync", tenant: "acme", key: "onedrive:kb-42"))
        #expect(next.id != first.id)
    }

    @Test func stuckHolderIsTimedOutAndReplaced() async throws {
        let clock = ManualClock()
        let store = makeStore("dedupe-stuck", clock: clock, staleAfter: 10)
        let first = try await store.enqueue(EnqueueRequest(type: "sync", key: "k"))
        _ = try await store.startJobs()
        clock.advance(by: 5)
        await #expect(throws: QuellError.self) { _ = try await store.enqueue(EnqueueRequest(type: "sync", key: "k")) }
        clock.advance(by: 6)  // heartbeat now 11 s old
        let second = try await store.enqueue(EnqueueRequest(type: "sync", key: "k"))
        let old = try await store.job(id: first.id, tenant: nil)
        #expect(old.status == .timedOut)
        #expect(old.error?.contains("stuck (stale)") == true && old.error?.contains(second.id) == true)
    }

    @Test func holderPastItsDeadlineIsStuck() async throws {
        let clock = ManualClock()
        let store = makeStore("dedupe-deadline", clock: clock, staleAfter: 10,
                              timeout: TimeoutPolicy(base: 30, perItem: 0, minimum: 1, maximum: 60))
        let first = try await store.enqueue(EnqueueRequest(type: "sync", key: "k"))
        let s = try #require(try await store.startJobs().first)
        for _ in 0..<4 {  // heartbeats keep it fresh, but the deadline passes
            clock.advance(by: 8)
            _ = try await store.heartbeat(WorkerRegistration(id: "w1", queues: ["default"], slots: 1, busy: 1, startedAt: clock.now()),
                                          jobs: [(first.id, s.lease)])
        }
        _ = try await store.enqueue(EnqueueRequest(type: "sync", key: "k"))
        #expect(try await store.job(id: first.id, tenant: nil).status == .timedOut)
    }

    @Test func dedupeStormAcceptsExactlyOne() async throws {
        let store = makeStore("dedupe-storm")
        let results = await withTaskGroup(of: Result<Job, QuellError>.self) { group in
            for _ in 0..<100 {
                group.addTask {
                    do { return .success(try await store.enqueue(EnqueueRequest(type: "sync", tenant: "acme", key: "storm"))) }
                    catch let e as QuellError { return .failure(e) }
                    catch { return .failure(.invalid("\(error)")) }
                }
            }
            var all: [Result<Job, QuellError>] = []
            for await r in group { all.append(r) }
            return all
        }
        let accepted = results.compactMap { try? $0.get() }
        #expect(accepted.count == 1)
        let holders = results.compactMap { r -> String? in
            if case .failure(.conflict(let j)) = r { return j.id }
            return nil
        }
        #expect(holders.count == 99)
        #expect(Set(holders) == [accepted[0].id])
    }

    @Test func batchWithTheSameKeyTwiceAcceptsTheFirst() async throws {
        let store = makeStore("dedupe-batch")
        let results = try await store.enqueue(batch: [EnqueueRequest(type: "t", key: "x"), EnqueueRequest(type: "t", key: "x"),
                                                      EnqueueRequest(type: "t", key: "y")])
        let first = try results[0].get()
        guard case .failure(.conflict(let holder)) = results[1] else { Issue.record("got \(results[1])"); return }
        #expect(holder.id == first.id)
        #expect((try? results[2].get()) != nil)
    }
}
