import Quell
import Synchronization

/// The one reader of the events stream in an API process. It runs only while
/// someone listens: a loop of `XREAD BLOCK` on a Redis connection of its own
/// (its command timeout longer than the block), fanning each batch out to
/// every subscriber, with `params` filled in once per batch.
///
/// Its position is its own, taken from Redis, never from a client: it starts at the
/// stream's end (read when it starts), and after a failure or a read that found nothing
/// it checks its position against the stream's end again — after a restore or a
/// failover the stream can end before ids already read, and an `XREAD` after such an
/// id would wait for the stream's ids to pass it. Where each client resumes is that
/// client's business (`EventsEndpoint`).
///
/// No loss, no duplicates. A subscriber registers first, then catches up from
/// its own position with `XRANGE`, then takes the follower's batches, skipping
/// ids it already delivered. Whatever the follower hands out after the registration
/// reaches the subscriber; whatever it read before is in Redis before the catch-up
/// reads it. When the follower (re)starts from the stream's end, the subscribers it
/// has then may have caught up to an earlier point: they get `.resync` and catch up
/// again. A subscriber too slow to keep its buffer gets its `needsCatchUp` flag set
/// and re-reads from its position the same way.
final class EventFollower: Sendable {
    /// What a subscriber receives.
    enum Item: Sendable {
        case events([StreamEvent])
        case heartbeat
        /// Catch up from Redis before trusting the batches that follow (the flag
        /// `takeNeedsCatchUp()` reads is set): the follower moved to the stream's end.
        case resync
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

        /// True once after registration and after each overflow or resync: read from
        /// Redis (`XRANGE`) before trusting the buffer again. Reading clears it.
        func takeNeedsCatchUp() -> Bool { catchUp.exchange(false, ordering: .acquiringAndReleasing) }

        func offer(_ item: Item) {
            if case .dropped = continuation.yield(item), case .events = item {
                catchUp.store(true, ordering: .releasing)
            }
        }

        /// Sets the catch-up flag, and wakes the subscriber to act on it.
        func requireCatchUp() {
            catchUp.store(true, ordering: .releasing)
            continuation.yield(.resync)
        }
    }

    private struct State {
        var subscribers: [Int: Subscription] = [:]
        var nextID = 0
        var running = false
        var closed = false
        /// The id of the last event read, or the stream's end it started from; nil until
        /// the loop has read that end.
        var cursor: StreamID?
    }

    private let state = Mutex(State())
    private let store: JobStore
    private let client: RedisClient
    private let params: ParamsCache
    private let block: Double
    private let batchSize: Int
    private let bufferedBatches: Int

    init(store: JobStore, params: ParamsCache, block: Double = 2, batchSize: Int = 500, bufferedBatches: Int = 256) {
        self.store = store
        self.params = params
        self.block = max(0.001, block)
        self.batchSize = batchSize
        self.bufferedBatches = bufferedBatches
        self.client = store.blockingClient(name: "quell-api-events", commandTimeout: block + 5)
    }

    /// Subscribers right now.
    var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// Whether the loop runs (it stops when the last subscriber has left).
    var isRunning: Bool { state.withLock { $0.running } }

    /// Where the next read starts; nil while the loop has yet to read the stream's end.
    var position: StreamID? { state.withLock { $0.cursor } }

    /// Registers a listener; starts the loop when it is not running. The listener then
    /// catches up from its own position (`takeNeedsCatchUp()` is true).
    func subscribe(tenant: String?) -> Subscription {
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
            s.cursor = nil
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

    private enum Step {
        case stop
        /// Read the stream's end: to start there, or to check the position against it.
        case findEnd
        case read(after: StreamID)
    }

    private func loop() async {
        var failures = 0
        var checkEnd = false
        while true {
            let step = state.withLock { s -> Step in
                if s.closed || s.subscribers.isEmpty {
                    s.running = false
                    return .stop
                }
                guard let cursor = s.cursor, !checkEnd else { return .findEnd }
                return .read(after: cursor)
            }
            switch step {
            case .stop:
                return
            case .findEnd:
                let end: StreamID
                do {
                    end = try await store.lastEventID().flatMap { StreamID($0) } ?? .zero
                    failures = 0
                } catch {
                    failures += 1
                    await pause(failures)
                    continue
                }
                checkEnd = false
                let resync = state.withLock { s -> [Subscription] in
                    if let cursor = s.cursor, cursor <= end { return [] }  // still inside the stream: go on
                    s.cursor = end
                    return Array(s.subscribers.values)
                }
                for sub in resync { sub.requireCatchUp() }
            case .read(let cursor):
                var batch: [StreamEvent]
                do {
                    batch = try await store.readEvents(after: cursor.description, limit: batchSize, block: block, on: client)
                        .map(StreamEvent.init)
                    failures = 0
                } catch {
                    // Redis down or restarted (perhaps from an older snapshot), or a corrupt
                    // entry: wait, check the position against the stream's end, read again.
                    failures += 1
                    checkEnd = true
                    await pause(failures)
                    continue
                }
                if batch.isEmpty {
                    // Quiet for a whole block: cheap moment to make sure the position is
                    // still inside the stream (a restart the connection never noticed,
                    // between two reads, raises no error).
                    checkEnd = true
                    continue
                }
                let jobs = await params.fill(batch.map(\.job))
                for i in batch.indices { batch[i].job = jobs[i] }
                let subscribers = state.withLock { s -> [Subscription] in
                    if let id = StreamID(batch[batch.count - 1].id) { s.cursor = id }
                    return Array(s.subscribers.values)
                }
                for sub in subscribers {
                    let mine = sub.tenant.map { t in batch.filter { $0.job.tenant == t } } ?? batch
                    if !mine.isEmpty { sub.offer(.events(mine)) }
                }
            }
        }
    }

    private func pause(_ failures: Int) async {
        let delay = Backoff(base: 0.05, max: 1).delay(attempt: failures - 1)
        try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
    }
}
