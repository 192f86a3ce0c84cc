import QuellTestSupport
import Foundation
import Testing
@testable import Quell

@Suite("Redis errors")
struct RedisErrorTests {
    @Test func nothingListeningIsRefusedQuickly() async throws {
        let url = RedisURL(endpoint: .tcp(host: "127.0.0.1", port: freePort()))
        let client = RedisClient(url: url, options: RedisOptions(connectTimeout: 1))
        defer { client.close() }
        let start = Date()
        do {
            try await client.send("PING")
            Issue.record("PING succeeded against nothing")
        } catch let error as RedisError {
            guard case .connectionRefused(let message) = error else { Issue.record("got \(error)"); return }
            #expect(message.contains("127.0.0.1"))
            #expect(error.isUnavailable)
        }
        #expect(Date().timeIntervalSince(start) < 10, "refused, not hung")
    }

    @Test func silentServerTimesOut() async throws {
        let server = FakeServer(.silent)
        defer { server.stop() }
        let url = RedisURL(endpoint: .tcp(host: "127.0.0.1", port: server.port))
        let client = RedisClient(url: url, options: RedisOptions(connectTimeout: 1, commandTimeout: 0.3))
        defer { client.close() }
        let start = Date()
        do {
            try await client.send("PING")
            Issue.record("PING answered by a silent server")
        } catch let error as RedisError {
            guard case .timeout = error else { Issue.record("got \(error)"); return }
        }
        let elapsed = Date().timeIntervalSince(start)
        #expect(elapsed >= 0.25 && elapsed < 10)
    }

    @Test func garbageIsAProtocolError() async throws {
        let server = FakeServer(.reply(Array("hello world\r\n".utf8)))
        defer { server.stop() }
        let url = RedisURL(endpoint: .tcp(host: "127.0.0.1", port: server.port))
        let client = RedisClient(url: url, options: RedisOptions(connectTimeout: 1, commandTimeout: 1))
        defer { client.close() }
        do {
            try await client.send("PING")
            Issue.record("garbage accepted")
        } catch let error as RedisError {
            guard case .protocolError(let message) = error else { Issue.record("got \(error)"); return }
            #expect(message.lowercased().contains("protocol"))
        }
    }

    @Test func hangUpIsConnectionLost() async throws {
        let server = FakeServer(.hangUpAfterRead)
        defer { server.stop() }
        let url = RedisURL(endpoint: .tcp(host: "127.0.0.1", port: server.port))
        let client = RedisClient(url: url, options: RedisOptions(connectTimeout: 1, commandTimeout: 1))
        defer { client.close() }
        do {
            try await client.send("INCR", "x")
            Issue.record("answered by a server that hung up")
        } catch let error as RedisError {
            guard case .connectionLost(let message) = error else { Issue.record("got \(error)"); return }
            #expect(message.contains("may have been applied"))
        }
    }

    @Test func killedConnectionIsLostThenReconnects() async throws {
        let client = TestRedis.client("kill-me-\(UInt32.random(in: 0...UInt32.max))")
        defer { client.close() }
        let admin = TestRedis.client()
        defer { admin.close() }
        let id = try await client.send("CLIENT", "ID").expectInt()
        // A blocking call is in flight when the connection is killed.
        async let blocked: RedisReply = client.send(RedisCommand("BLPOP", TestRedis.prefix("never"), 3), timeout: 5)
        try await Task.sleep(for: .milliseconds(100))
        _ = try await admin.send("CLIENT", "KILL", "ID", id)
        do {
            _ = try await blocked
            Issue.record("blocked call survived CLIENT KILL")
        } catch let error as RedisError {
            guard case .connectionLost = error else { Issue.record("got \(error)"); return }
        }
        // The next command reconnects on its own.
        #expect(try await client.send("PING") == .status("PONG"))
        #expect(client.statistics.connects == 2)
    }

    @Test func serverErrorReplyIsTyped() async throws {
        let client = TestRedis.client()
        defer { client.close() }
        do {
            try await client.send("HSET", "only-a-key")
            Issue.record("bad arity accepted")
        } catch let error as RedisError {
            guard case .server(let message) = error else { Issue.record("got \(error)"); return }
            #expect(message.contains("wrong number of arguments"))
            #expect(!error.isUnavailable)
        }
    }

    @Test func wrongPasswordFailsClearly() async throws {
        var url = TestRedis.url
        url.password = "definitely-wrong"
        let client = RedisClient(url: url)
        defer { client.close() }
        do {
            try await client.send("PING")
            Issue.record("wrong password accepted")
        } catch let error as RedisError {
            guard case .server(let message) = error else { Issue.record("got \(error)"); return }
            #expect(message.contains("AUTH"))
        }
    }

    @Test func closedClientRefusesCommands() async throws {
        let client = TestRedis.client()
        client.close()
        do {
            try await client.send("PING")
            Issue.record("closed client sent a command")
        } catch let error as RedisError {
            #expect(error == .closed)
        }
    }
}
