/// The connections of their own that some components need, beside the
/// store's shared, pipelining one: a blocking read holds its connection, and
/// pub/sub takes one over. The store makes them and the commands on them, so
/// no component builds key names or commands of its own.
extension JobStore {
    /// A client of its own on the store's Redis, for blocking commands
    /// (`claim`, `readEvents`): its `commandTimeout` must exceed the block time.
    package func blockingClient(name: String, commandTimeout: Double) -> RedisClient {
        RedisClient(url: configuration.redisURL,
                    options: RedisOptions(connectTimeout: 2, commandTimeout: commandTimeout, clientName: name))
    }

    /// Waits up to `block` seconds for an id pushed to `queue` and moves it into
    /// `worker`'s processing list (`BLMOVE … RIGHT LEFT`), where the next `start`
    /// takes it (and the reaper returns it if the worker dies first). True when
    /// an id was claimed, false when the wait ended with none. It blocks a
    /// connection: `client` is one from `blockingClient`, not the store's.
    package func claim(worker: String, queue: String, block: Double, on client: RedisClient) async throws(QuellError) -> Bool {
        let reply = try await mapped {
            try await client.send(RedisCommand("BLMOVE", keys.queue(queue), keys.processing(worker), "RIGHT", "LEFT", block),
                                  timeout: block + 5)
        }
        return !reply.isNull
    }

    /// Subscribes to cancel and pause pushes (the message is the job id;
    /// `pause` says which channel) on a connection of its own; resubscribes
    /// after a reconnect, then calls `onSubscribed(true)` so the owner can
    /// catch up on what pub/sub may have dropped.
    package func stopSubscriber(clientName: String, onSubscribed: @escaping @Sendable (_ reconnected: Bool) -> Void,
                                onStop: @escaping @Sendable (_ id: String, _ pause: Bool) -> Void) -> RedisSubscriber {
        let pauseChannel = keys.pauseChannel
        return RedisSubscriber(url: configuration.redisURL, channels: [keys.cancelChannel, pauseChannel],
                               options: RedisOptions(clientName: clientName),
                               onSubscribed: onSubscribed, onMessage: { channel, id in onStop(id, channel == pauseChannel) })
    }
}
