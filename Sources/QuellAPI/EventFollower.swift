import Quell
import Synchronization

/// The one reader of the events stream in an API process. It runs only while
/// someone listens: a loop of `XREAD BLOCK` on a Redis connection of its own
/// (its command timeout longer than the block), fanning each batch out to
/// every subscriber, with `params` filled in once per batch.
///
/// No loss, no duplicates. A subscriber registers first, then catches up from
/// its own position with `XRANGE` (everything the follower handed out before
/// the registration is already in Redis, so the catch-up covers it), then
/// takes the follower's batches, skipping ids it already delivered. A
/// subscriber too slow to keep its buffer gets its `needsCatchUp` flag set and
/// re-reads from its position the same way.
final class EventFollower: Sendable {
    /// What a subscriber receives.
    enum Item: Sendable {
        case events([StreamEvent])
        case heartbeat
    }

    /// One listener: a bounded buffer of batches and its catch-up flag.
    final class Subscription: Sendable {
        let id: Int
        /// The tenant whose events it receives; nil for all (admin).
        let tenant: String?
        let stream: AsyncStream<Item>
        let continuation: AsyncStream<Item>.Continuation
        private let catchUp = Atomic<Bool>(true)

        init(id: Int, tenant: String?, bufferedBatches: Int) {
            self.id = id
            self.tenant = tenant
            (stream, continuation) = AsyncStream.makeStream(of: Item.self, bufferingPolicy: .bufferingOldest(bufferedBatches))
        }

        /// True once after registration and after each overflow: read from Redis
        /// (`XRANGE`) before trusting the buffer again. Reading clears it.
        func takeNeedsCatchUp() -> Bool { catchUp.exchange(false, ordering: .acquiringAndReleasing) }

        func offer(_ item: Item) {
            if case .dropped = continuation.yield(item), case .events = item {
                catchUp.store(true, ordering: .releasing)
            }
        }
    }

    private struct State {
        var subscribers: [Int: Subscription] = [:]
        var nextID = 0
        var running = false
        var closed = false
        /// The id of the last event read; survives stop and restart.
        var cursor: StreamID?
    }

    private let state = Mutex(State())
    private let store: JobStore
    private let client: RedisClient
    private let params: ParamsCache
    private let blockMilliseconds: Int
    private let batchSize: Int
    private let bufferedBatches: Int

    init(store: JobStore, params: ParamsCache, block: Double = 2, batchSize: Int = 500, bufferedBatches: Int = 256) {
        self.store = store
        self.params = params
        self.blockMilliseconds = max(1, Int(block * 1000))
        self.batchSize = batchSize
        self.bufferedBatches = bufferedBatches
        self.client = RedisClient(
            url: store.configuration.redisURL,
            options: RedisOptions(connectTimeout: 2, commandTimeout: block + 5, clientName: "quell-api-events"))
    }

    /// Subscribers right now.
    var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// Registers a listener that wants events after `position`. Starts the loop
    /// when it is not running (from the later of `position` and where it last stopped).
    func subscribe(tenant: String?, from position: StreamID) -> Subscription {
        let (subscription, start) = state.withLock { s -> (Subscription, Bool) in
            s.nextID += 1
            let sub = Subscription(id: s.nextID, tenant: tenant, bufferedBatches: bufferedBatches)
            if s.closed {
                sub.continuation.finish()
                return (sub, false)
            }
            s.subscribers[sub.id] = sub
            guard !s.running else { return (sub, false) }
            s.running = true
            s.cursor = max(s.cursor ?? position, position)
            return (sub, true)
        }
        if start {
            Task { await self.loop() }
        }
        return subscription
    }

    func unsubscribe(_ subscription: Subscription) {
        subscription.continuation.finish()
        _ = state.withLock { $0.subscribers.removeValue(forKey: subscription.id) }
    }

    /// Ends every subscription and the loop; later subscriptions end at once.
    func close() {
        let subs = state.withLock { s -> [Subscription] in
            s.closed = true
            let subs = Array(s.subscribers.values)
            s.subscribers.removeAll()
            return subs
        }
        for sub in subs { sub.continuation.finish() }
        client.close()
    }

    private func loop() async {
        var failures = 0
        while true {
            guard let cursor = state.withLock({ $0.closed ? nil : $0.cursor }) else { return }
            var batch: [StreamEvent] = []
            do {
                let reply = try await client.send(RedisCommand(
                    "XREAD", "COUNT", batchSize, "BLOCK", blockMilliseconds, "STREAMS", store.keys.events, cursor.description))
                batch = try decodeXREAD(reply, store: store)
                failures = 0
            } catch {
                // Redis down, or a corrupt entry: wait and read again from the same place.
                failures += 1
                let delay = Backoff(base: 0.05, max: 1).delay(attempt: failures - 1)
                try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
            }
            if !batch.isEmpty {
                let jobs = await params.fill(batch.map(\.job))
                for i in batch.indices { batch[i].job = jobs[i] }
            }
            let subscribers = state.withLock { s -> [Subscription]? in
                if let last = batch.last, let id = StreamID(last.id) { s.cursor = id }
                if s.subscribers.isEmpty || s.closed {
                    s.running = false
                    return nil
                }
                return Array(s.subscribers.values)
            }
            guard let subscribers else { return }
            if batch.isEmpty { continue }
            for sub in subscribers {
                let mine = sub.tenant.map { t in batch.filter { $0.job.tenant == t } } ?? batch
                if !mine.isEmpty { sub.offer(.events(mine)) }
            }
        }
    }
}
