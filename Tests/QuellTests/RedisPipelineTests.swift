import QuellTestSupport
import Testing
@testable import Quell

@Suite("Redis pipelining")
struct RedisPipelineTests {
    @Test func pipelinedRepliesComeBackInOrder() async throws {
        let client = TestRedis.client()
        defer { client.close() }
        let key = TestRedis.prefix("pipe") + ":list"
        var commands: [RedisCommand] = []
        for i in 0..<500 { commands.append(RedisCommand("RPUSH", key, "v\(i)")) }
        commands.append(RedisCommand("LRANGE", key, 0, -1))
        commands.append(RedisCommand("DEL", key))
        let replies = try await client.pipeline(commands)
        #expect(replies.count == 502)
        for i in 0..<500 { #expect(replies[i] == .integer(i + 1)) }
        let items = try replies[500].expectArray().map { $0.string ?? "?" }
        #expect(items == (0..<500).map { "v\($0)" })
        #expect(replies[501] == .integer(1))
    }

    @Test func errorRepliesAreValuesInAPipelineAndThrowFromSend() async throws {
        let client = TestRedis.client()
        defer { client.close() }
        let key = TestRedis.prefix("pipe-err") + ":s"
        let replies = try await client.pipeline([
            RedisCommand("SET", key, "x"),
            RedisCommand("INCR", key),
            RedisCommand("GET", key),
            RedisCommand("DEL", key),
        ])
        #expect(replies[0] == .status("OK"))
        guard case .error(let message) = replies[1] else { Issue.record("expected error, got \(replies[1])"); return }
        #expect(message.contains("not an integer"))
        #expect(replies[2] == .bulk("x"))
        await #expect(throws: RedisError.self) { try await client.send("NOSUCHCOMMAND") }
    }

    @Test func concurrentCallersShareRoundTrips() async throws {
        let client = TestRedis.client()
        defer { client.close() }
        let key = TestRedis.prefix("pipe-conc") + ":n"
        _ = try await client.send("PING")
        let before = client.statistics
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<1000 {
                group.addTask { _ = try await client.send("INCR", key) }
            }
            try await group.waitForAll()
        }
        let after = client.statistics
        #expect(try await client.send("GET", key) == .bulk("1000"))
        _ = try await client.send("DEL", key)
        #expect(after.commands - before.commands == 1000)
        // 1000 concurrent callers must not cost 1000 round trips.
        #expect(after.roundTrips - before.roundTrips < 1000)
    }

    @Test func binaryAndUnicodeArgumentsRoundTrip() async throws {
        let client = TestRedis.client()
        defer { client.close() }
        let key = TestRedis.prefix("pipe-utf") + ":k"
        let value = "héllo\r\n$3\r\n✓ 🚀"
        try await client.send("SET", key, value)
        #expect(try await client.send("GET", key) == .bulk(value))
        #expect(try await client.send("GET", key + ":missing") == .null)
        try await client.send("DEL", key)
    }

    /// A command queued while another's reply is outstanding goes out at
    /// once, not after that reply: the worker keeps two start calls in
    /// flight, and the second must reach Redis while the first is answered.
    @Test func commandsAreWrittenWhileRepliesAreOutstanding() async throws {
        let server = FakeServer(.recording)
        defer { server.stop() }
        let url = RedisURL(endpoint: .tcp(host: "127.0.0.1", port: server.port))
        let client = RedisClient(url: url, options: RedisOptions(connectTimeout: 5, commandTimeout: 120))
        defer { client.close() }
        async let first = client.send("ECHO", "first")
        try await waitUntil { server.received.contains("first") }
        async let second = client.send("ECHO", "second")
        // The server has not answered anything yet.
        try await waitUntil { server.received.contains("second") }
        async let third = client.send("ECHO", "third")
        try await waitUntil { server.received.contains("third") }
        // A fourth waits while three batches are out (RedisClient.batchesInFlight)
        // and goes once the first is answered; every caller gets its own reply.
        async let fourth = client.send("ECHO", "fourth")
        server.answer("$5\r\nfirst\r\n")
        #expect(try await first == .bulk("first"))
        try await waitUntil { server.received.contains("fourth") }
        server.answer("$6\r\nsecond\r\n$5\r\nthird\r\n$6\r\nfourth\r\n")
        #expect(try await second == .bulk("second"))
        #expect(try await third == .bulk("third"))
        #expect(try await fourth == .bulk("fourth"))
    }
}
