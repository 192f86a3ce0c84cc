import QuellTestSupport
import Foundation
import Testing
@testable import Quell

@Suite("Redis pub/sub")
struct RedisPubSubTests {
    @Test func deliversMessagesOnEveryChannelInOrder() async throws {
        let prefix = TestRedis.prefix("pubsub")
        let received = LockedBox<[String]>([])
        let ready = LockedBox(false)
        let subscriber = RedisSubscriber(
            url: TestRedis.url, channels: ["\(prefix):a"],
            onSubscribed: { _ in ready.withLock { $0 = true } },
            onMessage: { channel, message in received.withLock { $0.append("\(channel.dropFirst(prefix.count + 1)):\(message)") } })
        defer { subscriber.close() }
        let client = TestRedis.client()
        defer { client.close() }
        try await waitUntil { ready.current }
        for i in 0..<100 { try await client.send("PUBLISH", "\(prefix):a", "m\(i)") }
        try await waitUntil { received.current.count == 100 }
        #expect(received.current == (0..<100).map { "a:m\($0)" })

        // Channels added later are subscribed on the live connection.
        subscriber.subscribe(["\(prefix):b"])
        try await waitUntil {
            (try await client.send("PUBSUB", "NUMSUB", "\(prefix):b").array?[1].int) == 1
        }
        try await client.send("PUBLISH", "\(prefix):b", "hello")
        try await waitUntil { received.current.last == "b:hello" }
        subscriber.unsubscribe(["\(prefix):a"])
        try await waitUntil {
            (try await client.send("PUBSUB", "NUMSUB", "\(prefix):a").array?[1].int) == 0
        }
    }

    @Test func resubscribesAfterTheConnectionIsKilled() async throws {
        let prefix = TestRedis.prefix("pubsub-kill")
        let received = LockedBox<[String]>([])
        let subscriptions = LockedBox(0)
        let subscriber = RedisSubscriber(
            url: TestRedis.url, channels: ["\(prefix):c"], options: RedisOptions(clientName: "\(prefix)-sub"),
            backoff: Backoff(base: 0.01, max: 0.1),
            onSubscribed: { _ in subscriptions.withLock { $0 += 1 } },
            onMessage: { _, message in received.withLock { $0.append(message) } })
        defer { subscriber.close() }
        let client = TestRedis.client()
        defer { client.close() }
        try await waitUntil { subscriptions.current == 1 }
        let list = try await client.send("CLIENT", "LIST").expectString()
        let line = try #require(list.split(separator: "\n").first { $0.contains("name=\(prefix)-sub") })
        let id = try #require(line.split(separator: " ").first { $0.hasPrefix("id=") }?.dropFirst(3))
        try await client.send("CLIENT", "KILL", "ID", String(id))
        try await waitUntil { subscriptions.current == 2 }
        try await client.send("PUBLISH", "\(prefix):c", "after-kill")
        try await waitUntil { received.current == ["after-kill"] }
    }
}
