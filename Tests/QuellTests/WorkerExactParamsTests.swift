import QuellTestSupport
import Foundation
import Synchronization
import Testing
import Quell

/// A number in params reaches the handler with every digit the client sent: the
/// reader keeps the literal, the store keeps the text, `JSONDecoder` reads it exactly.
@Suite("Worker: params reach the handler exactly")
struct WorkerExactParamsTests {
    struct IDs: Decodable, Sendable, Equatable {
        var id: Int64
        var min: Int64
        var max: UInt64
        var ratio: Double
    }

    final class Seen: Sendable {
        let value = Mutex<IDs?>(nil)
    }

    @Test func aHandlerDecodingInt64GetsEveryDigit() async throws {
        let store = makeStore("w-exact")
        let seen = Seen()
        let registry = TaskRegistry()
        registry.register("exact.ids", params: IDs.self) { ids, _ in
            seen.value.withLock { $0 = ids }
            return .completed
        }
        let worker = Worker(store: store, registry: registry,
                            options: Worker.Options(concurrency: 1, id: "exact-worker", cancelPush: false, runReaper: false))
        worker.start()
        let params = try JSONValue.parse(#"{"id":9007199254740993,"min":-9223372036854775808,"max":18446744073709551615,"ratio":0.1}"#)
        let job = try await store.enqueue(EnqueueRequest(type: "exact.ids", params: params))
        let final: Job
        do {
            final = try await store.waitForJob(job.id, 10) { $0.status.isTerminal }
        } catch {
            await worker.shutdown(grace: 1)
            throw error
        }
        await worker.shutdown(grace: 1)
        #expect(final.status == .completed, "\(final.error ?? "")")
        #expect(seen.value.withLock { $0 } == IDs(id: 9_007_199_254_740_993, min: Int64.min, max: UInt64.max, ratio: 0.1))
    }
}
