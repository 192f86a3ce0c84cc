import QuellTestSupport
import Foundation
import Testing
@testable import Quell

@Suite("Redis reconnect")
struct RedisReconnectTests {
    @Test func clientSurvivesServerRestart() async throws {
        let server = try await RedisServerProcess.startPrivate()
        let client = RedisClient(url: server.url, options: RedisOptions(connectTimeout: 0.5, commandTimeout: 1),
                                 backoff: Backoff(base: 0.02, max: 0.2))
        defer { client.close() }
        try await client.send("SET", "k", "before")
        await onOwnThreadQuietly { server.stop() }
        // Down: commands fail with an "unavailable" error, fast, no crash, no hang.
        let start = Date()
        do {
            try await client.send("GET", "k")
            Issue.record("GET succeeded with the server down")
        } catch let error as RedisError {
            #expect(error.isUnavailable, "got \(error)")
        }
        #expect(Date().timeIntervalSince(start) < 10, "fails, does not hang")
        try await onOwnThread { try server.start() }
        // Up again: within the backoff cap the client reconnects by itself.
        try await waitUntil { (try? await client.send("PING")) == .status("PONG") }
        #expect(try await client.send("GET", "k") == .null)  // a fresh server without persistence
        #expect(client.statistics.connects >= 2)
    }

    @Test func subscriberResubscribesAfterServerRestart() async throws {
        let server = try await RedisServerProcess.startPrivate()
        let received = LockedBox<[String]>([])
        let subscriptions = LockedBox<[Bool]>([])
        let subscriber = RedisSubscriber(
            url: server.url, channels: ["news"], options: RedisOptions(connectTimeout: 0.5),
            backoff: Backoff(base: 0.02, max: 0.2), pingInterval: 1,
            onSubscribed: { reconnected in subscriptions.withLock { $0.append(reconnected) } },
            onMessage: { channel, message in received.withLock { $0.append("\(channel):\(message)") } })
        defer { subscriber.close() }
        let publisher = RedisClient(url: server.url, backoff: Backoff(base: 0.02, max: 0.2))
        defer { publisher.close() }
        try await waitUntil { subscriptions.current.count == 1 }
        try await publisher.send("PUBLISH", "news", "one")
        try await waitUntil { received.current == ["news:one"] }

        await onOwnThreadQuietly { server.stop() }
        try await onOwnThread { try server.start() }
        try await waitUntil { subscriptions.current.count == 2 }
        #expect(subscriptions.current == [false, true])
        try await waitUntil { (try? await publisher.send("PUBLISH", "news", "two").int) == 1 }
        try await waitUntil { received.current.last == "news:two" }
    }
}

/// Polls a condition every 10 ms for up to `seconds`.
func waitUntil(_ seconds: Double = 60, _ condition: @Sendable () async throws -> Bool) async throws {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("condition not met within \(seconds)s")
    throw CancellationError()
}
