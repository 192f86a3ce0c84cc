import QuellTestSupport
import Foundation
import Quell
import Testing

/// Redis going away: 503 `unavailable` everywhere that needs it, the process keeps
/// serving, and everything recovers when Redis is back (same port, empty).
@Suite struct RedisDownTests {
    @Test func unavailableThenRecovers() async throws {
        let redis = try await onThread { try RedisServerProcess.start() }
        try await withAPI("down", redisURL: redis.url) { h in
            let id = try await h.enqueueID()
            let stream = try await SSEClient.connect(port: h.port, lastEventID: "0-0")
            #expect(try await stream.events(1).map(\.jobID) == [id])

            await onThreadNoThrow { redis.stop() }
            let health = try await h.call("GET", "/healthz", token: nil)
            #expect(health.status == 503 && health.errorCode == "unavailable" && health.header("Retry-After") == "1")
            let requests: [(String, String, String?)] = [
                ("POST", "/v1/jobs", #"{"type":"t"}"#),
                ("GET", "/v1/jobs/\(id)", nil),
                ("GET", "/v1/jobs", nil),
                ("POST", "/v1/jobs/\(id)/cancel", nil),
                ("POST", "/v1/cleanup", nil),
                ("GET", "/v1/stats", nil),
                ("GET", "/v1/events", nil),
            ]
            for (method, target, body) in requests {
                let r = try await h.call(method, target, body: body)
                #expect(r.status == 503 && r.errorCode == "unavailable", "\(method) \(target) → \(r)")
            }
            let metrics = try await h.call("GET", "/metrics", token: nil)
            #expect(metrics.status == 200 && metrics.text.contains("quell_redis_up 0\n"))
            // Auth and validation still answer without Redis.
            #expect(try await h.call("GET", "/v1/stats", token: "wrong").status == 401)
            #expect(try await h.enqueue("{").status == 400)

            try await onThread { try redis.start() }
            #expect(await eventually { try await h.call("GET", "/healthz", token: nil).status == 200 })
            let again = try await h.enqueueID()
            #expect(try await h.call("GET", "/v1/jobs/\(again)").status == 200)
            // The event stream that stayed connected carries on.
            #expect(try await stream.events(1).map(\.jobID) == [again])
        }
        await onThreadNoThrow { redis.stop() }
    }
}

extension RedisDownTests {
    /// Redis refusing with a transient reply (BUSY here; LOADING after a
    /// restart is the same class) is "unavailable": 503 with Retry-After,
    /// never `400 invalid` for a valid request.
    @Test func transientRefusalsAre503() async throws {
        let redis = try await onThread { try RedisServerProcess.start() }
        try await withAPI("busy", redisURL: redis.url) { h in
            let id = try await h.enqueueID()
            let busy = try await BusyRedis.hold(redis)
            let requests: [(String, String, String?)] = [
                ("POST", "/v1/jobs", #"{"type":"t"}"#),
                ("POST", "/v1/jobs", #"{"type":"t","key":"k"}"#),
                ("GET", "/v1/jobs/\(id)", nil),
                ("GET", "/v1/jobs", nil),
                ("POST", "/v1/jobs/\(id)/cancel", nil),
                ("POST", "/v1/cleanup", nil),
                ("GET", "/v1/stats", nil),
            ]
            for (method, target, body) in requests {
                let r = try await h.call(method, target, body: body)
                #expect(r.status == 503 && r.errorCode == "unavailable" && r.header("Retry-After") == "1",
                        "\(method) \(target) → \(r)")
            }
            try await busy.release()
            #expect(try await h.enqueue(#"{"type":"t","key":"k"}"#).status == 202)
            #expect(try await h.call("GET", "/v1/jobs/\(id)").status == 200)
        }
        await onThreadNoThrow { redis.stop() }
    }
}

/// Runs blocking, non-throwing work on a thread of its own.
func onThreadNoThrow(_ body: @escaping @Sendable () -> Void) async {
    _ = try? await onThread { body() }
}
