import QuellTestSupport
import Synchronization
import Testing
@testable import Quell

/// Group commit: concurrent single enqueues share one function call.
@Suite("Enqueue group commit")
struct EnqueueGroupTests {
    /// Calls `send` saw, and a gate that holds the first call until released.
    final class Recorder: Sendable {
        let calls = Mutex<[[String]]>([])
        let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let firstArrived = Mutex<Bool>(false)

        func send(_ group: [EnqueueRequest]) async -> [Result<Job, QuellError>] {
            let isFirst = calls.withLock { c -> Bool in
                c.append(group.map { $0.type })
                return c.count == 1
            }
            if isFirst {
                await withCheckedContinuation { k in
                    gate.withLock { $0 = k }
                    firstArrived.withLock { $0 = true }
                }
            }
            return group.map { _ in .failure(.invalid("recorded")) }
        }
    }

    /// Holds a first call in flight, queues `count` requests behind it one
    /// after the other (so their arrival order is known), releases the first
    /// call, and returns the types each call carried.
    func callsWithRequestsQueuedBehindAHeldCall(limit: Int, count: Int, linger: Duration = .microseconds(500),
                                                then: (@Sendable (EnqueueGroup, @escaping EnqueueGroup.Send) async -> Void)? = nil) async -> [[String]] {
        let group = EnqueueGroup(limit: limit, linger: linger)
        let recorder = Recorder()
        let send: EnqueueGroup.Send = { requests in await recorder.send(requests) }
        let first = Task { await group.enqueue(EnqueueRequest(type: "first"), send: send) }
        while !recorder.firstArrived.withLock({ $0 }) { await Task.yield() }
        var waiting: [Task<Result<Job, QuellError>, Never>] = []
        for n in 0..<count {
            waiting.append(Task { await group.enqueue(EnqueueRequest(type: "t\(n)"), send: send) })
            while group.waitingCount < n + 1 { await Task.yield() }
        }
        recorder.gate.withLock { $0!.resume() }
        _ = await first.value
        await then?(group, send)
        for t in waiting { _ = await t.value }
        return recorder.calls.withLock { $0 }
    }

    @Test func requestsArrivingDuringACallGoTogetherInTheNextInArrivalOrder() async {
        let calls = await callsWithRequestsQueuedBehindAHeldCall(limit: 128, count: 10)
        #expect(calls == [["first"], (0..<10).map { "t\($0)" }])
    }

    /// The sender expects back the callers it answered: with the first
    /// caller's next request on its way, the three that waited behind the
    /// first call wait for it (the linger is far longer than it takes) and
    /// all four go in one call.
    @Test func theNextCallWaitsForTheCallersTheLastOneAnswered() async {
        let calls = await callsWithRequestsQueuedBehindAHeldCall(limit: 128, count: 3, linger: .seconds(600)) { group, send in
            _ = await group.enqueue(EnqueueRequest(type: "again"), send: send)
        }
        #expect(calls == [["first"], ["t0", "t1", "t2", "again"]])
    }

    /// A caller that does not come back delays the others by the linger at
    /// most: the one waiting behind the first call goes alone after it.
    @Test func whoeverIsWaitingGoesWhenTheLingerEnds() async {
        let calls = await callsWithRequestsQueuedBehindAHeldCall(limit: 128, count: 1, linger: .milliseconds(1))
        #expect(calls == [["first"], ["t0"]])
    }

    /// With no linger, requests that waited go as soon as the call before them returns.
    @Test func withNoLingerWaitingRequestsGoAtOnce() async {
        let calls = await callsWithRequestsQueuedBehindAHeldCall(limit: 128, count: 3, linger: .zero)
        #expect(calls == [["first"], ["t0", "t1", "t2"]])
    }

    @Test func aLoneRequestIsSentAtOnceAlone() async {
        let group = EnqueueGroup()
        let seen = Mutex<[Int]>([])
        for _ in 0..<3 {
            _ = await group.enqueue(EnqueueRequest(type: "x"), send: { requests in
                seen.withLock { $0.append(requests.count) }
                return requests.map { _ in .failure(.invalid("x")) }
            })
        }
        #expect(seen.withLock { $0 } == [1, 1, 1])
    }

    @Test func aGroupIsCappedAtItsLimit() async {
        let calls = await callsWithRequestsQueuedBehindAHeldCall(limit: 4, count: 10)
        #expect(calls.map(\.count) == [1, 4, 4, 2])
        #expect(calls.flatMap { $0 } == ["first"] + (0..<10).map { "t\($0)" })
    }

    @Test func concurrentTriggersOfOneKeyAdmitExactlyOne() async throws {
        let store = makeStore("enqueue-group")
        let results = await withTaskGroup(of: Result<Job, QuellError>.self) { g in
            for _ in 0..<50 {
                g.addTask {
                    do throws(QuellError) {
                        return .success(try await store.enqueue(EnqueueRequest(type: "sync", tenant: "acme", key: "drive:1")))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            var all: [Result<Job, QuellError>] = []
            for await r in g { all.append(r) }
            return all
        }
        let accepted = results.compactMap { try? $0.get() }
        #expect(accepted.count == 1)
        let holder = try #require(accepted.first)
        for r in results {
            if case .failure(let e) = r {
                guard case .conflict(let h) = e else { Issue.record("got \(e)"); continue }
                #expect(h.id == holder.id)
            }
        }
        // And many distinct jobs at once all land, each its own job.
        let ids = await withTaskGroup(of: String?.self) { g in
            for n in 0..<200 {
                g.addTask { try? await store.enqueue(EnqueueRequest(type: "noop", tenant: "acme", key: "k\(n)")).id }
            }
            var all: [String] = []
            for await id in g { if let id { all.append(id) } }
            return all
        }
        #expect(Set(ids).count == 200)
        for id in ids.prefix(20) { #expect(try await store.jobExists(id)) }
        let stats = try await store.stats(tenant: "acme")
        #expect(stats.counts[.queued] == 201)
    }
}
