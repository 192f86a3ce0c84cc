/// Listens on the cancel and pause channels (pub/sub) so a cancel or a pause
/// reaches the owning worker at once: the job's stop reason is set and its
/// Task cancelled. Pub/sub can drop a message (e.g. while reconnecting):
/// after every reconnect it asks the heartbeater to beat now, whose reply
/// names cancelled and paused jobs.
final class CancelListener: Sendable {
    private let subscriber: RedisSubscriber

    init(store: JobStore, running: RunningJobs, heartbeater: Heartbeater) {
        subscriber = store.stopSubscriber(
            clientName: "quell-cancel-listener",
            onSubscribed: { reconnected in if reconnected { heartbeater.beatNow() } },
            onStop: { id, pause in running.stop(id, reason: pause ? .pause : .cancel) })
    }

    var isConnected: Bool { subscriber.isConnected }

    func shutdown() { subscriber.close() }
}
