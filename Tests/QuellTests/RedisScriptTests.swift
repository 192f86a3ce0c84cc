import QuellTestSupport
import Testing
@testable import Quell

@Suite("Redis scripts", .serialized)  // SCRIPT FLUSH is server-wide
struct RedisScriptTests {
    static let script = RedisScript(name: "incr-by", source: """
        -- KEYS[1] counter; ARGV[1] step
        return redis.call('INCRBY', KEYS[1], ARGV[1])
        """)

    @Test func sha1MatchesRedis() async throws {
        let client = TestRedis.client()
        defer { client.close() }
        let sha = try await client.send("SCRIPT", "LOAD", Self.script.source).expectString()
        #expect(sha == Self.script.sha1)
        #expect(SHA1.hex("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(SHA1.hex("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d")
        let long = String(repeating: "a", count: 1000)
        let longSha = try await client.send("SCRIPT", "LOAD", "return '\(long)'").expectString()
        #expect(longSha == SHA1.hex("return '\(long)'"))
    }

    @Test func reloadsAfterScriptFlush() async throws {
        let client = TestRedis.client()
        defer { client.close() }
        let key = TestRedis.prefix("script") + ":n"
        #expect(try await client.run(Self.script, keys: [key], arguments: [2]) == .integer(2))
        try await client.send("SCRIPT", "FLUSH")
        #expect(try await client.send("SCRIPT", "EXISTS", Self.script.sha1) == .array([.integer(0)]))
        #expect(try await client.run(Self.script, keys: [key], arguments: [3]) == .integer(5))
        // A batch of calls all refused with NOSCRIPT runs once each, in order.
        try await client.send("SCRIPT", "FLUSH")
        let calls = (1...10).map { Self.script.command(keys: [key], arguments: [$0]) }
        let replies = try await client.runAll(Self.script, calls)
        var total = 5
        for (i, r) in replies.enumerated() {
            total += i + 1
            #expect(r == .integer(total))
        }
        try await client.send("DEL", key)
    }

    @Test func syncConnectionReloadsToo() throws {
        let conn = try RedisConnection(url: TestRedis.url)
        let key = TestRedis.prefix("script-sync") + ":n"
        _ = try conn.send(RedisCommand("SCRIPT", "FLUSH"))
        #expect(try conn.run(Self.script, keys: [key], arguments: [7]) == .integer(7))
        _ = try conn.send(RedisCommand("DEL", key))
    }

    @Test func luaErrorsAreServerErrors() async throws {
        let client = TestRedis.client()
        defer { client.close() }
        let bad = RedisScript(name: "bad", source: "return redis.call('NOPE')")
        await #expect(throws: RedisError.self) { try await client.run(bad, keys: [], arguments: []) }
        let broken = RedisScript(name: "broken", source: "this is not lua")
        do {
            try await client.run(broken, keys: [], arguments: [])
            Issue.record("broken script ran")
        } catch let error as RedisError {
            guard case .server(let message) = error else { Issue.record("got \(error)"); return }
            #expect(message.contains("broken"))
        }
    }
}
