import Quell
import Synchronization

/// A metrics sink that counts finished jobs per outcome, in process (the
/// worker prints the tally when it stops). A bridge to swift-metrics has the
/// same shape: see docs/library.md "Logging and metrics".
public final class JobTally: QuellMetrics {
    private let finished = Mutex<[String: Int]>([:])

    public init() {}

    public func increment(counter name: String, by amount: Int, dimensions: [(String, String)]) {
        guard name == "quell_worker_jobs_finished_total",
              let outcome = dimensions.first(where: { $0.0 == "outcome" })?.1 else { return }
        finished.withLock { $0[outcome, default: 0] += amount }
    }

    public func record(gauge name: String, value: Double, dimensions: [(String, String)]) {}
    public func record(timer name: String, seconds: Double, dimensions: [(String, String)]) {}

    /// Finished jobs per outcome (`completed`, `cancelled`, `retry`, …).
    public var counts: [String: Int] { finished.withLock { $0 } }

    /// `completed=2 retry=1` (outcomes sorted), or `none`.
    public var summary: String {
        let c = counts
        return c.isEmpty ? "none" : c.keys.sorted().map { "\($0)=\(c[$0]!)" }.joined(separator: " ")
    }
}
