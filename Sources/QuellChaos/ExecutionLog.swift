import Foundation

/// One run of a sleeper, from its execution log (DemoTasks.executionLogKey):
/// `[first, last]` is the span in which it did work with its lease believed
/// valid — its first and its last *passed* checkpoint. A run with no closing
/// entry whose worker was killed with -9 is closed at the moment its process
/// was seen dead (waitpid), the latest it can have worked.
struct Run: Sendable {
    let lease: String
    let worker: String
    var first: Int64?
    var last: Int64?
    var closedBy: String

    var pid: Int32? {
        let parts = worker.split(separator: ":")
        return parts.count >= 3 ? Int32(parts[parts.count - 2]) : nil
    }
}

enum ExecutionLog {
    /// Runs by lease, from entries `KIND WORKER MICROS LEASE`.
    static func runs(_ entries: [String]) -> [Run] {
        var byLease: [String: Run] = [:]
        var order: [String] = []
        for line in entries {
            let f = line.split(separator: " ").map(String.init)
            guard f.count == 4, let t = Int64(f[2]) else { continue }
            let lease = f[3]
            if byLease[lease] == nil {
                byLease[lease] = Run(lease: lease, worker: f[1], first: nil, last: nil, closedBy: "")
                order.append(lease)
            }
            switch f[0] {
            case "start": byLease[lease]!.first = min(byLease[lease]!.first ?? t, t)
            case "end", "stop":
                // Repeated closing entries (a write retried after a lost answer) carry the same time.
                byLease[lease]!.last = max(byLease[lease]!.last ?? t, t)
                byLease[lease]!.closedBy = f[0]
            default: continue
            }
        }
        return order.map { byLease[$0]! }
    }
}
