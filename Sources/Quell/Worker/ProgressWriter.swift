/// Writes handlers' progress, coalesced: every `interval` seconds, one
/// script call for every job whose progress changed. The reply also tells
/// each job whether a cancel or pause was requested (another path besides
/// the push).
final class ProgressWriter: Sendable {
    private let loop: PeriodicLoop

    init(store: JobStore, running: RunningJobs, interval: Double, log: @escaping @Sendable (String) -> Void) {
        loop = PeriodicLoop(name: "progress", interval: interval) {
            let dirty = running.contexts.compactMap { c in c.takeDirtyProgress().map { (c, $0) } }
            if dirty.isEmpty { return }
            do {
                let answers = try await store.progress(dirty.map {
                    ProgressReport(id: $0.0.job.id, lease: $0.0.lease, progress: $0.1.progress, cursor: $0.1.cursor)
                })
                for ((context, taken), answer) in zip(dirty, answers) {
                    switch answer.signal {
                    case .ok:
                        context.updateDeadline(answer.deadline)
                        context.cursorWritten(upTo: taken.generation)
                    case .cancel: running.stop(context.job.id, reason: .cancel)
                    case .pause: running.stop(context.job.id, reason: .pause)
                    case .lost, .terminal: running.stop(context.job.id, reason: .lost)
                    case .deadline: running.stop(context.job.id, reason: .deadline)
                    }
                }
            } catch {
                for (context, taken) in dirty { context.markDirty(cursor: taken.cursor) }
                log("progress write failed: \(error)")
            }
        }
    }

    func start() { loop.start(runFirstTickNow: false) }
    func flushNow() { loop.poke() }
    func shutdown() async { await loop.shutdown() }
}
