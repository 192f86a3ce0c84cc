import QuellTestSupport
import Testing
import Quell

/// `JobStore.params(of:)`: params for many jobs in one round trip.
@Suite struct StoreParamsTests {
    @Test func paramsOfManyJobsByID() async throws {
        let store = makeStore("params-of")
        let a = try await store.enqueue(EnqueueRequest(type: "t", params: .object(["n": .number(1)])))
        let b = try await store.enqueue(EnqueueRequest(type: "t", params: .object(["big": .string(String(repeating: "y", count: 200_000))])))
        let absent = JobID.make(at: store.clock.now())
        let found = try await store.params(of: [a.id, b.id, a.id, absent, "not an id"])
        #expect(found == [a.id: a.params!, b.id: b.params!])
        #expect(try await store.params(of: []) == [:])
        // An error reply is an error, not "no params".
        let wrong = JobID.make(at: store.clock.now())
        _ = try await store.redis.send(RedisCommand("SET", store.keys.job(wrong), "not a hash"))
        await #expect(throws: QuellError.self) { try await store.params(of: [a.id, wrong]) }
    }
}
