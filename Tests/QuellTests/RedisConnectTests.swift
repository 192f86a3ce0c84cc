import Foundation
import QuellTestSupport
import Testing
@testable import Quell

/// Connecting as a URL says: the database (SELECT), and a unix socket.
@Suite("Redis connect")
struct RedisConnectTests {
    @Test func databaseFromTheURLIsSelected() async throws {
        var url = TestRedis.url
        url.database = 3
        let db3 = RedisClient(url: url)
        defer { db3.close() }
        let db0 = TestRedis.client()
        defer { db0.close() }
        let key = TestRedis.prefix("select") + ":k"
        try await db3.send("SET", key, "in-3")
        #expect(try await db3.send("GET", key) == .bulk("in-3"))
        #expect(try await db0.send("GET", key) == .null)
        let info = try await db3.send("CLIENT", "INFO").expectString()
        #expect(info.contains(" db=3 "))
        try await db3.send("DEL", key)
    }

    @Test func unixSocketURLConnects() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quell-sock-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/redis.sock"
        let server = try await onOwnThread { try RedisServerProcess.start(extraArguments: ["--unixsocket", socket, "--unixsocketperm", "700"]) }
        defer { Thread { server.stop() }.start() }
        let client = RedisClient(url: try RedisURL("unix://\(socket)?db=2"))
        defer { client.close() }
        #expect(try await client.send("PING") == .status("PONG"))
        let info = try await client.send("CLIENT", "INFO").expectString()
        #expect(info.contains(" db=2 ") && info.contains("laddr=\(socket)"))
    }
}
