import Foundation
import Quell
@testable import QuellAPI
import Testing

/// The API's cache of job params (events leave them out): bounded in bytes, and params
/// too big to cache are fetched when needed, so events still carry them whole.
@Suite struct ParamsCacheTests {
    /// Params of `bytes` bytes as JSON text, distinct per `n`.
    static func params(_ n: Int, bytes: Int) -> String {
        let head = #"{"n":\#(n),"blob":""#
        return head + String(repeating: "x", count: max(0, bytes - head.utf8.count - 2)) + #""}"#
    }

    /// Big params (here 100 KiB, over the per-entry cap) are not kept, yet every event
    /// of those jobs carries them exactly.
    @Test func bigParamsAreNotCachedButEventsCarryThemWhole() async throws {
        try await withAPI("params-big") { h in
            let client = try await SSEClient.connect(port: h.port)
            var sent: [String: String] = [:]
            for n in 0..<12 {
                let p = Self.params(n, bytes: 100 * 1024)
                sent[try await h.enqueueID(#"{"type":"demo.sync","params":\#(p)}"#)] = p
            }
            let small = try await h.enqueueID(#"{"type":"demo.sync","params":{"small":true}}"#)
            let events = try await client.events(13)
            #expect(Set(events.map(\.jobID)) == Set(sent.keys).union([small]))
            for e in events where e.jobID != small {
                #expect(e.job["params"] == (try JSONValue.parse(Array(sent[e.jobID]!.utf8))), "params of \(e.jobID)")
            }
            #expect(events.first { $0.jobID == small }?.job["params"] == .object(["small": .bool(true)]))
            #expect(h.api.params.count == 1, "only the small params are cached")
        }
    }

    /// However many params pass through, the byte total stays under the bound; fills
    /// still give every job its own params; params over the per-entry cap are filled
    /// but never kept.
    @Test func byteTotalStaysUnderItsBound() async throws {
        try await withAPI("params-bound") { h in
            let cache = ParamsCache(store: h.store, maxBytes: 256 * 1024, maxEntryBytes: 16 * 1024)
            var jobs: [Job] = []
            for n in 0..<120 {
                let p = try JSONValue.parse(Self.params(n, bytes: 10 * 1024))
                jobs.append(try await h.store.enqueue(EnqueueRequest(type: "t", params: p, tenant: "acme")))
            }
            var most = 0
            for start in stride(from: 0, to: jobs.count, by: 10) {
                let batch = Array(jobs[start..<(start + 10)])
                let filled = await cache.fill(batch.map { var j = $0; j.params = nil; return j })
                #expect(filled.map(\.params) == batch.map(\.params))
                most = max(most, cache.byteCount)
                // Jobs remembered whole count against the same bound.
                cache.remember(batch[0])
                most = max(most, cache.byteCount)
            }
            #expect(most <= cache.maxBytes)
            #expect(most > cache.maxBytes / 2, "it does fill up")
            #expect(cache.count < jobs.count)
            // The oldest went first.
            #expect(cache.holds(jobs[jobs.count - 1].id) && !cache.holds(jobs[1].id))

            let before = (cache.count, cache.byteCount)
            let big = try await h.store.enqueue(EnqueueRequest(
                type: "t", params: try JSONValue.parse(Self.params(-1, bytes: 20 * 1024)), tenant: "acme"))
            cache.remember(big)
            let filled = await cache.fill([{ var j = big; j.params = nil; return j }()])
            #expect(filled[0].params == big.params)
            #expect(cache.count == before.0 && cache.byteCount == before.1, "params over the per-entry cap are not kept")
        }
    }
}
