import FoundationEssentials
import Glibc

/// Severity of a log record (the levels swift-log and syslog share).
public enum LogLevel: Int, Sendable, Comparable, CustomStringConvertible {
    /// Detail for debugging.
    case debug
    /// Normal operation: a job started or finished, a worker started.
    case info
    /// Worth noticing: a reaper verdict, a shutdown's requeues.
    case notice
    /// Something failed and will be retried, or a job failed.
    case warning
    /// Something failed for good.
    case error

    /// Lower is less severe.
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
    /// `debug`, `info`, `notice`, `warning` or `error`.
    public var description: String { ["debug", "info", "notice", "warning", "error"][rawValue] }
}

/// Where the worker logs: level, message and metadata. Records about a job
/// always carry `job_id`, `job_type`, `tenant`, `attempt` and `worker`, and
/// `key` when the job has one. A bridge to swift-log is a few lines
/// (docs/library.md has it whole):
///
///     let logger = Logger(label: "quell")
///     let sink = QuellLogger { level, message, metadata in
///         let swiftLevel: Logger.Level = switch level {
///         case .debug: .debug
///         case .info: .info
///         case .notice: .notice
///         case .warning: .warning
///         case .error: .error
///         }
///         logger.log(level: swiftLevel, "\(message)", metadata: metadata.mapValues { .string($0) })
///     }
public struct QuellLogger: Sendable {
    /// What receives each record.
    public typealias Sink = @Sendable (_ level: LogLevel, _ message: String, _ metadata: [String: String]) -> Void
    private let sink: Sink
    /// Records below this level are not built at all (nil: none are).
    public let minimumLevel: LogLevel?

    /// A logger handing every record at `minimumLevel` and above to `sink`
    /// (called from any thread). Records below it cost nothing.
    public init(minimumLevel: LogLevel? = .debug, _ sink: @escaping Sink) {
        self.minimumLevel = minimumLevel
        self.sink = sink
    }

    /// Logs nothing.
    public static let none = QuellLogger(minimumLevel: nil) { _, _, _ in }

    /// True when a record at `level` would be logged (build its metadata only then).
    public func isEnabled(_ level: LogLevel) -> Bool {
        guard let minimumLevel else { return false }
        return level >= minimumLevel
    }

    /// One line per record on standard error, at `minimum` and above:
    /// `2026-12-01T10:00:00.000Z info job finished job_id=… outcome=completed`.
    public static func standardError(minimum: LogLevel = .info) -> QuellLogger {
        QuellLogger(minimumLevel: minimum) { level, message, metadata in
            guard level >= minimum else { return }
            var line = "[\(Job.rfc3339(Date()))] \(level) \(message)"
            for key in metadata.keys.sorted() { line += " \(key)=\(metadata[key]!)" }
            line += "\n"
            var bytes = Array(line.utf8)
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress! + offset, $0.count - offset) }
                if n <= 0 { break }
                offset += n
            }
        }
    }

    /// Logs one record.
    public func log(_ level: LogLevel, _ message: String, _ metadata: @autoclosure () -> [String: String] = [:]) {
        guard isEnabled(level) else { return }
        sink(level, message, metadata())
    }

    /// The metadata every record about `job` carries.
    static func metadata(_ job: Job, worker: String) -> [String: String] {
        var m = ["job_id": job.id, "job_type": job.type, "tenant": job.tenant, "attempt": String(job.attempt), "worker": worker]
        if let key = job.key { m["key"] = key }
        return m
    }
}

/// Where the worker reports metrics: counters, gauges and timers with
/// dimensions, shaped like swift-metrics (`Counter(label:dimensions:)`,
/// `Gauge`, `Timer`) so a bridge is a few lines outside the package.
///
/// The worker reports `quell_worker_jobs_started_total` (type, queue),
/// `quell_worker_jobs_finished_total` and `quell_worker_job_duration_seconds`
/// (type, outcome), and `quell_worker_busy_slots`.
public protocol QuellMetrics: Sendable {
    /// Adds `amount` to a counter.
    func increment(counter name: String, by amount: Int, dimensions: [(String, String)])
    /// Sets a gauge.
    func record(gauge name: String, value: Double, dimensions: [(String, String)])
    /// Records one duration, in seconds.
    func record(timer name: String, seconds: Double, dimensions: [(String, String)])
}

/// Reports nothing.
public struct NoMetrics: QuellMetrics {
    /// The sink that drops everything.
    public init() {}
    /// Does nothing.
    public func increment(counter name: String, by amount: Int, dimensions: [(String, String)]) {}
    /// Does nothing.
    public func record(gauge name: String, value: Double, dimensions: [(String, String)]) {}
    /// Does nothing.
    public func record(timer name: String, seconds: Double, dimensions: [(String, String)]) {}
}
