import QuellTestSupport
import Testing
@testable import Quell

/// Stats read counts from the counts hash; they must always equal what a
/// full listing finds, per tenant and over all tenants.
@Suite("Stats counts")
struct StatsCountsTests {
    func listed(_ store: JobStore, tenant: String?, _ status: JobStatus) async throws -> Int {
        var n = 0
        var cursor: String? = nil
        repeat {
            let page = try await store.jobs(status: status, tenant: tenant, limit: 100, cursor: cursor)
            n += page.jobs.count
            cursor = page.nextCursor
        } while cursor != nil
        return n
    }

    func expectCountsMatchListings(_ store: JobStore, _ tenants: [String?]) async throws {
        for tenant in tenants {
            let stats = try await store.stats(tenant: tenant)
            for status in JobStatus.allCases {
                let n = try await listed(store, tenant: tenant, status)
                #expect(stats.counts[status] ?? 0 == n, "\(tenant ?? "all") \(status): stats \(stats.counts[status] ?? 0), listed \(n)")
            }
        }
    }

    @Test func countsEqualListingsThroughEveryKindOfTransitionAndARebuild() async throws {
        let clock = ManualClock()
        var store = makeStore("stats-counts", clock: clock, staleAfter: 10)
        store = JobStore(redis: store.redis, configuration: { var c = store.configuration; c.retention = 3600; return c }(), clock: clock)
        for n in 0..<12 { _ = try await store.enqueue(EnqueueRequest(type: "t", tenant: n % 3 == 0 ? "globex" : "acme", key: "k\(n)")) }
        _ = try await store.enqueue(batch: (0..<6).map { _ in EnqueueRequest(type: "t", tenant: "initech") })
        let started = try await store.startJobs(8)
        _ = try await store.finish(started.prefix(3).map { FinishReport(id: $0.job.id, lease: $0.lease, status: .completed) })
        _ = try await store.finish(started.dropFirst(3).prefix(1).map { FinishReport(id: $0.job.id, lease: $0.lease, status: .failed, error: "x") })
        _ = try await store.cancel(id: started[5].job.id, tenant: nil)               // running → cancelling
        let queued = try await store.jobs(status: .queued, tenant: "initech", limit: 2, cursor: nil).jobs
        for j in queued { _ = try await store.cancel(id: j.id, tenant: "initech") }  // queued → cancelled
        try await expectCountsMatchListings(store, [nil, "acme", "globex", "initech"])

        // Stuck jobs closed by the reaper, then old ones deleted by the janitor.
        clock.advance(by: 11)
        _ = try await store.reap(ownJobs: [])
        try await expectCountsMatchListings(store, [nil, "acme", "globex", "initech"])
        clock.advance(by: 3700)
        #expect(try await store.expireFinished() > 0)
        try await expectCountsMatchListings(store, [nil, "acme", "globex", "initech"])

        // A store written before the counts hash existed: built once from the indexes.
        let before = try await store.stats(tenant: nil).counts
        try await store.redis.send("DEL", store.keys.counts)
        #expect(try await store.stats(tenant: nil).counts == before)
        try await expectCountsMatchListings(store, [nil, "acme", "globex", "initech"])
        // And kept from then on.
        _ = try await store.enqueue(EnqueueRequest(type: "t", tenant: "acme"))
        try await expectCountsMatchListings(store, [nil, "acme"])
    }

    /// Queued and running jobs have no status index: a rebuild of the counts
    /// finds them where they wait — queues, scheduled sets, the active set.
    @Test func aRebuildCountsQueuedAndRunningJobsWhereTheyAre() async throws {
        let store = makeStore("stats-rebuild-unindexed")
        _ = try await store.enqueue(batch: (0..<6).map { EnqueueRequest(type: "t", tenant: $0 < 4 ? "acme" : "globex", queue: $0 % 2 == 0 ? "qa" : "qb") })
        let started = try await store.start(worker: "w", leasePrefix: "w/1/", queues: ["qa", "qb"], count: 3).started
        #expect(started.count == 3)
        _ = try await store.retry(id: started[0].job.id, lease: started[0].lease, delay: 60, error: "later", progress: nil,
                                  refund: false, cursor: nil)  // queued again, in a scheduled set
        _ = try await store.finish([FinishReport(id: started[1].job.id, lease: started[1].lease, status: .completed)])
        let before = [try await store.stats(tenant: "acme").counts, try await store.stats(tenant: "globex").counts,
                      try await store.stats(tenant: nil).counts]
        #expect(before[2][.queued] == 4 && before[2][.running] == 1 && before[2][.completed] == 1)
        try await store.redis.send("DEL", store.keys.counts)
        let after = [try await store.stats(tenant: "acme").counts, try await store.stats(tenant: "globex").counts,
                     try await store.stats(tenant: nil).counts]
        #expect(after == before)
        try await expectCountsMatchListings(store, [nil, "acme", "globex"])
    }

    /// A new store's counts are kept from its first job on: they are marked
    /// built at once, so the first stats call never walks a backlog.
    @Test func aNewStoresCountsNeedNoRebuild() async throws {
        let store = makeStore("stats-new-store")
        func built() async throws -> Bool {
            try await store.redis.send("HEXISTS", store.keys.counts, "built").int == 1
        }
        #expect(try await !built())
        _ = try await store.enqueue(batch: (0..<3).map { _ in EnqueueRequest(type: "t", tenant: "acme") })
        #expect(try await built())
        // A store that had jobs before the counts hash existed is not marked by a new tenant's first job.
        try await store.redis.send("DEL", store.keys.counts)
        _ = try await store.enqueue(EnqueueRequest(type: "t", tenant: "globex"))
        #expect(try await !built())
        #expect(try await store.stats(tenant: nil).counts[.queued] == 4)  // rebuilt here
        #expect(try await built())
    }

    /// Enqueue registers a queue or tenant only when it had none queued
    /// before (its LPUSH or count says so): every one that ever had a job is
    /// still known, whatever the mix in one call.
    @Test func everyQueueAndTenantThatHadAJobIsKnown() async throws {
        let store = makeStore("stats-known")
        func members(_ key: String) async throws -> Set<String> {
            Set(try await store.redis.send("SMEMBERS", key).array?.compactMap(\.string) ?? [])
        }
        _ = try await store.enqueue(batch: [EnqueueRequest(type: "t", tenant: "acme", queue: "q1"),
                                            EnqueueRequest(type: "t", tenant: "acme", queue: "q1"),
                                            EnqueueRequest(type: "t", tenant: "globex", queue: "q2")])
        #expect(try await members(store.keys.queues) == ["q1", "q2"])
        #expect(try await members(store.keys.tenants) == ["acme", "globex"])
        // acme's queued count and q1's list back to zero, then new ones next to known ones.
        let started = try await store.start(worker: "w", leasePrefix: "w/1/", queues: ["q1", "q2"], count: 3).started
        #expect(started.count == 3)
        #expect(try await store.stats(tenant: "acme").counts[.queued] ?? 0 == 0)
        _ = try await store.enqueue(batch: [EnqueueRequest(type: "t", tenant: "acme", queue: "q1"),
                                            EnqueueRequest(type: "t", tenant: "initech", queue: "q1"),
                                            EnqueueRequest(type: "t", tenant: "globex", queue: "q3")])
        _ = try await store.enqueue(EnqueueRequest(type: "t", tenant: "initech", queue: "q3"))
        #expect(try await members(store.keys.queues) == ["q1", "q2", "q3"])
        #expect(try await members(store.keys.tenants) == ["acme", "globex", "initech"])
        // A set member lost (by hand) comes back once the tenant's queue count is zero again.
        try await store.redis.send("SREM", store.keys.tenants, "acme")
        _ = try await store.start(worker: "w", leasePrefix: "w/2/", queues: ["q1"], count: 10)
        _ = try await store.enqueue(EnqueueRequest(type: "t", tenant: "acme", queue: "q1"))
        #expect(try await members(store.keys.tenants).contains("acme"))
        #expect(try await store.stats(tenant: nil).queues.map(\.name).sorted() == ["q1", "q2", "q3"])
    }
}
