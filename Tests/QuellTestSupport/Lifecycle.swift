import Quell

/// The job lifecycle as DESIGN.md draws it, written out independently of the
/// scripts, for the checkers that judge histories (the race storm, the chaos
/// suite).
public enum Lifecycle {
    /// The status changes the lifecycle allows; a change to the same status
    /// (progress) is always allowed.
    public static let allowed: [JobStatus: Set<JobStatus>] = [
        .queued: [.running, .cancelled, .paused],
        .running: [.cancelling, .pausing, .queued, .completed, .completedWithErrors, .failed, .timedOut],
        .cancelling: [.cancelled, .completed, .completedWithErrors, .failed, .timedOut],
        .pausing: [.paused, .cancelling, .completed, .completedWithErrors, .failed, .timedOut],
        .paused: [.queued, .cancelled],
    ]

    /// Why a job's history (its events, oldest first) breaks the lifecycle:
    /// versions 1, 2, 3… with no gap, nothing after a terminal status, every
    /// status change an allowed one. Empty when it holds.
    public static func violations(of history: [Job]) -> [String] {
        var out: [String] = []
        for (i, j) in history.enumerated() where j.version != i + 1 {
            out.append("event \(i) has version \(j.version)")
            break
        }
        if let t = history.firstIndex(where: { $0.status.isTerminal }), t != history.count - 1 {
            out.append("a change after terminal \(history[t].status.rawValue) (v\(history[t].version))")
        }
        for (a, b) in zip(history, history.dropFirst()) where a.status != b.status {
            if !(allowed[a.status]?.contains(b.status) ?? false) {
                out.append("\(a.status.rawValue) → \(b.status.rawValue) (v\(b.version))")
            }
        }
        return out
    }
}
