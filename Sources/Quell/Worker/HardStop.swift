import FoundationEssentials
import Synchronization

/// The hard stop. A handler told to stop — cancelled, paused, past its
/// deadline, or no longer this worker's run — that has not returned within
/// the cancel grace (`QUELL_CANCEL_GRACE_SECONDS`) is abandoned: its job is
/// closed without it (`abandon.lua`: `cancelled` / `timed_out` with reason
/// `forced`, or `paused`), its dedupe key released, its slot freed, and
/// whatever it writes later is refused (the job is closed and its lease is
/// gone). Shutdown has a grace of its own and is left to it.
///
/// Swift cannot kill a task, so an abandoned handler goes on holding what it
/// holds (memory, a socket, a thread if it blocks one). When this worker
/// holds more abandoned handlers than `limit`, `overLimit` is called once:
/// the worker stops taking jobs and ends, for its supervisor to restart it.
final class HardStop: Sendable {
    private let loop: PeriodicLoop

    init(store: JobStore, running: RunningJobs, grace: Double, limit: Int, freeSlot: @escaping @Sendable (JobContext) -> Void,
         overLimit: @escaping @Sendable (_ held: Int) -> Void, logger: QuellLogger, workerID: String) {
        let clock = store.clock
        let reported = Reported()
        loop = PeriodicLoop(name: "hard-stop", interval: min(1, max(0.05, grace / 4))) {
            let now = clock.now()
            for context in running.handlersRunning {
                guard let stop = context.stopRequest, stop.reason != .shutdown,
                      now.timeIntervalSince(stop.at) >= grace else { continue }
                var closed: JobStatus?
                if stop.reason != .lost {
                    let point = context.pausePoint
                    let progress = stop.reason == .pause ? point.progress : context.currentProgress
                    do {
                        closed = try await store.abandon(id: context.job.id, lease: context.lease,
                                                         progress: progress == JobProgress() ? nil : progress, cursor: point.cursor)
                    } catch {
                        // Redis unreachable: the job stays ours (and beaten) until the next tick.
                        logger.log(.warning, "hard stop of job \(context.job.id) failed: \(error); retrying", ["worker": workerID])
                        continue
                    }
                }
                guard running.abandon(context) else { continue }  // the handler returned meanwhile
                freeSlot(context)
                let held = running.abandoned
                var metadata = QuellLogger.metadata(context.job, worker: workerID)
                metadata["stop_reason"] = stop.reason.rawValue
                metadata["closed_as"] = closed?.rawValue ?? "unchanged (not this run's any more)"
                metadata["abandoned_held"] = String(held)
                logger.log(.warning, "handler did not stop within the cancel grace (\(JobStore.formatSeconds(grace))s): abandoned", metadata)
                if held > limit && reported.first() { overLimit(held) }
            }
        }
    }

    func start() { loop.start(runFirstTickNow: false) }
    func shutdown() async { await loop.shutdown() }
}

/// True only the first time it is asked.
private final class Reported: Sendable {
    private let state = Mutex(false)
    func first() -> Bool { state.withLock { s in defer { s = true }; return !s } }
}
