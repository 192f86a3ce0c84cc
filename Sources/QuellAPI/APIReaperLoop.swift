import Quell

/// The reaper as the API process runs it until the worker issue's shared
/// `Reaper` component replaces it: `store.reap()` every
/// `configuration.reaperInterval` seconds (at once again while a sweep hits its
/// limit); failures are logged and retried with exponential backoff. Safe beside
/// any number of other reapers (each sweep is one atomic script).
public struct APIReaperLoop: Sendable {
    public let store: JobStore
    /// Called with one line per notable thing (what a sweep did, failures, recovery).
    public let log: @Sendable (String) -> Void
    /// Jobs and workers resolved per sweep at most.
    public var limit = 1000
    public var backoff = Backoff(base: 0.1, max: 10)

    public init(store: JobStore, log: @escaping @Sendable (String) -> Void) {
        self.store = store
        self.log = log
    }

    /// Sweeps until the calling task is cancelled.
    public func run() async {
        let interval = store.configuration.reaperInterval
        var failures = 0
        while !Task.isCancelled {
            var pause = interval
            do {
                let actions = try await store.reap(limit: limit)
                if failures > 0 { log("reaper: Redis is back after \(failures) failed sweep(s)") }
                failures = 0
                if !actions.isEmpty {
                    var byAction: [String: Int] = [:]
                    for a in actions { byAction[a.action, default: 0] += 1 }
                    log("reaper: " + byAction.keys.sorted().map { "\($0) \(byAction[$0]!)" }.joined(separator: ", "))
                }
                if actions.count >= limit { pause = 0 }
            } catch {
                if failures == 0 || failures.isMultiple(of: 10) { log("reaper: sweep failed: \(error); retrying") }
                pause = max(interval, backoff.delay(attempt: failures))
                failures += 1
            }
            if pause > 0 {
                do { try await Task.sleep(for: .milliseconds(Int(pause * 1000))) } catch { return }
            }
        }
    }
}
