/// Listens on the cancel channel (pub/sub) so a cancel reaches the owning
/// worker at once: the job's flag is set and its Task cancelled. Pub/sub can
/// drop a message (e.g. while reconnecting): after every reconnect it asks
/// the heartbeater to beat now, whose reply names cancelled jobs.
final class CancelListener: Sendable {
    private let subscriber: RedisSubscriber

    init(store: JobStore, running: RunningJobs, heartbeater: Heartbeater) {
        subscriber = store.cancelSubscriber(
            clientName: "quell-cancel-listener",
            onSubscribed: { reconnected in if reconnected { heartbeater.beatNow() } },
            onCancel: { id in running.stop(id, reason: .cancel) })
    }

    var isConnected: Bool { subscriber.isConnected }

    func shutdown() { subscriber.close() }
}
