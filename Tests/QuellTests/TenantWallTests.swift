import QuellTestSupport
import Testing
@testable import Quell

/// Invariant 8: a caller sees and cancels only its own tenant's jobs.
@Suite("Invariant 8: tenants are walled")
struct TenantWallTests {
    @Test func anotherTenantsJobDoesNotExist() async throws {
        let store = makeStore("tenants")
        let mine = try await store.enqueue(EnqueueRequest(type: "t", tenant: "acme", key: "shared"))
        let theirs = try await store.enqueue(EnqueueRequest(type: "t", tenant: "globex", key: "shared"))
        await #expect(throws: QuellError.notFound(theirs.id)) { _ = try await store.job(id: theirs.id, tenant: "acme") }
        await #expect(throws: QuellError.notFound(theirs.id)) { _ = try await store.cancel(id: theirs.id, tenant: "acme") }
        #expect(try await store.job(id: theirs.id, tenant: "globex").status == .queued)
        #expect(try await store.jobs(tenant: "acme").jobs.map(\.id) == [mine.id])
        #expect(try await store.jobs(key: "shared", tenant: "acme").jobs.map(\.id) == [mine.id])
        #expect(try await store.stats(tenant: "acme").counts[.queued] == 1)
        #expect(try await store.stats(tenant: nil).counts[.queued] == 2)
        #expect(Set(try await store.jobs(tenant: nil).jobs.map(\.id)) == [mine.id, theirs.id])
        let s = try #require(try await store.startJobs(2).first { $0.job.tenant == "globex" })
        _ = try await store.finish([FinishReport(id: s.job.id, lease: s.lease, status: .completed)])
        #expect(try await store.cleanup(tenant: "acme").cleaned == 0)
    }
}
