import QuellTestSupport
import Testing
import Quell

/// `JobStore.redisCommand` and `Keys.app`: an application's own Redis writes on
/// the store's connection, under keys of its own.
@Suite struct StoreCommandsTests {
    @Test func appKeysShareTheHashTagAndStayClearOfQuellsOwn() {
        let keys = QuellConfiguration(prefix: "acme").keys
        #expect(keys.app("synced:t1") == "{acme}:app:synced:t1")
        #expect(keys.app("job:01ARZ3NDEKTSV4RRFFQ69G5FAV") != keys.job("01ARZ3NDEKTSV4RRFFQ69G5FAV"))
    }

    @Test func runsTheApplicationsOwnCommands() async throws {
        let store = makeStore("app-commands")
        let key = store.keys.app("set")
        #expect(try await store.redisCommand("SADD", key, "a", "b", 3).int == 3)
        let members = try await store.redisCommand("SMEMBERS", [key]).array?.compactMap(\.string) ?? []
        #expect(members.sorted() == ["3", "a", "b"])
        #expect(try await store.redisCommand("SCARD", key) == .integer(3))
        // An error reply is `.invalid`, naming what Redis said.
        await #expect {
            try await store.redisCommand("LPUSH", key, "x")
        } throws: { error in
            guard case .invalid(let message) = error as? QuellError else { return false }
            return message.contains("WRONGTYPE")
        }
    }

    @Test func refusesWhatWouldBlockOrChangeTheSharedConnection() async throws {
        let store = makeStore("app-commands-refused")
        for (name, arguments) in [("BLPOP", [store.keys.app("l"), "1"]), ("subscribe", ["c"]), ("MULTI", []),
                                  ("SELECT", ["1"]), ("XREAD", ["BLOCK", "10", "STREAMS", store.keys.app("s"), "$"])] {
            await #expect(throws: QuellError.self, "\(name)") {
                try await store.redisCommand(name, arguments.map { $0 as any RedisArgument })
            }
        }
        // The connection still serves everyone else.
        #expect(try await store.redisCommand("PING") == .status("PONG"))
        #expect(try await store.redisCommand("XREAD", "COUNT", 1, "STREAMS", store.keys.app("s"), "0") == .null)
    }
}
