import QuellTestSupport
import Testing
@testable import Quell

@Suite("Redis functions", .serialized)  // FUNCTION FLUSH is server-wide
struct RedisFunctionTests {
    static let library = RedisFunctionLibrary(name: "quell_test_incr", source: """
        #!lua name=quell_test_incr
        local calls = 0
        redis.register_function('quell_test_incr_by', function(keys, args)
          calls = calls + 1
          return {redis.call('INCRBY', keys[1], args[1]), calls}
        end)
        """)
    static let incrBy = RedisFunction(name: "quell_test_incr_by", library: library)

    @Test func loadsOnFirstCallAndAfterFunctionFlush() async throws {
        let client = TestRedis.client()
        defer { client.close() }
        let key = TestRedis.prefix("function") + ":n"
        _ = try await client.pipeline([RedisCommand("FUNCTION", "DELETE", Self.library.name)])
        let first = try await client.run(Self.incrBy, keys: [key], arguments: [2])
        #expect(first == .array([.integer(2), .integer(1)]))
        // The library's top level ran once: its state lives across calls.
        #expect(try await client.run(Self.incrBy, keys: [key], arguments: [1]) == .array([.integer(3), .integer(2)]))
        try await client.send("FUNCTION", "FLUSH")
        // A batch of calls all refused with "Function not found" runs once each, in order.
        let calls = (1...10).map { Self.incrBy.command(keys: [key], arguments: [$0]) }
        let replies = try await client.runAll(Self.library, calls)
        var total = 3
        for (i, r) in replies.enumerated() {
            total += i + 1
            #expect(r == .array([.integer(total), .integer(i + 1)]))
        }
        try await client.send("DEL", key)
    }

    @Test func aLibraryLoadedBySomeoneElseIsUsedAsIs() async throws {
        let client = TestRedis.client()
        defer { client.close() }
        _ = try await client.pipeline([RedisCommand("FUNCTION", "DELETE", Self.library.name)])
        // Another process loads it between our refused call and our load.
        #expect(try await client.send("FUNCTION", "LOAD", Self.library.source) == .bulk(Self.library.name))
        let again = try await client.pipeline([Self.library.loadCommand])[0]
        #expect(again == .error("ERR Library 'quell_test_incr' already exists"))
        try Self.library.checkLoad(again)
        // And a call then runs without loading anything.
        let key = TestRedis.prefix("function-loaded") + ":n"
        #expect(try await client.run(Self.incrBy, keys: [key], arguments: [4]) == .array([.integer(4), .integer(1)]))
        try await client.send("DEL", key)
        #expect(throws: RedisError.self) { try Self.library.checkLoad(.error("ERR Error compiling function: oops")) }
    }

    @Test func syncConnectionLoadsToo() throws {
        let conn = try RedisConnection(url: TestRedis.url)
        let key = TestRedis.prefix("function-sync") + ":n"
        _ = try conn.send(RedisCommand("FUNCTION", "DELETE", Self.library.name))
        #expect(try conn.run(Self.incrBy, keys: [key], arguments: [7]) == .array([.integer(7), .integer(1)]))
        _ = try conn.send(RedisCommand("DEL", key))
    }

    @Test func quellsLibraryRefusesACallWithoutItsGuardKey() async throws {
        let client = TestRedis.client()
        defer { client.close() }
        let base = "{" + TestRedis.prefix("function-guard") + "}"
        let ok = try await client.run(Scripts.stats, keys: [base + ":shard"], arguments: [base, 0, 100, ""])
        guard case .array = ok else { Issue.record("stats answered \(ok)"); return }
        do {
            try await client.run(Scripts.stats, keys: ["{elsewhere}:shard"], arguments: [base, 0, 100, ""])
            Issue.record("a call with another shard's guard key ran")
        } catch RedisError.server(let message) {
            #expect(message.contains("guard key"))
        }
    }
}
