import FoundationEssentials
import Quell
import Synchronization

/// What `/metrics` reports that only this process knows: HTTP answers by code,
/// enqueues and cancels it performed, and the cancel latency it observed.
/// Job counts, queue depths and workers come from Redis at scrape time.
final class APIMetrics: Sendable {
    /// Upper bounds (seconds) of the cancel latency histogram.
    static let latencyBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    private struct State {
        var requestsByCode: [Int: Int] = [:]
        var enqueued = 0
        var conflicts = 0
        /// Cancel requests answered 200, by the status they answered with.
        var cancels: [String: Int] = [:]
        var latencyCounts = [Int](repeating: 0, count: APIMetrics.latencyBuckets.count)
        var latencyCount = 0
        var latencySum = 0.0
    }

    private let state = Mutex(State())

    func countRequest(status: Int) { state.withLock { $0.requestsByCode[status, default: 0] += 1 } }
    func countEnqueued() { state.withLock { $0.enqueued += 1 } }
    func countConflict() { state.withLock { $0.conflicts += 1 } }
    func countCancel(answered status: JobStatus) { state.withLock { $0.cancels[status.rawValue, default: 0] += 1 } }

    /// Time from a cancel request to `cancelled` seen by its `?wait`.
    func observeCancelLatency(_ seconds: Double) {
        state.withLock { s in
            s.latencyCount += 1
            s.latencySum += seconds
            for (i, bound) in Self.latencyBuckets.enumerated() where seconds <= bound { s.latencyCounts[i] += 1 }
        }
    }

    var requestsByCode: [Int: Int] { state.withLock { $0.requestsByCode } }

    /// Prometheus text exposition (version 0.0.4). `stats` is nil when Redis could not be read.
    func render(stats: QueueStats?, sseClients: Int, now: Date = Date()) -> String {
        let s = state.withLock { $0 }
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func line(_ name: String, _ labels: [(String, String)] = [], _ value: some CustomStringConvertible) {
            out += name
            if !labels.isEmpty {
                out += "{" + labels.map { "\($0.0)=\"\(escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
            }
            out += " \(value)\n"
        }

        family("quell_redis_up", "gauge", "1 when this API process could read Redis for this scrape.")
        line("quell_redis_up", [], stats == nil ? 0 : 1)
        if let stats {
            family("quell_jobs", "gauge", "Jobs by status, all tenants.")
            for status in JobStatus.displayOrder {
                line("quell_jobs", [("status", status.rawValue)], stats.counts[status] ?? 0)
            }
            family("quell_jobs_finished_total", "counter",
                   "Jobs that ever reached a terminal status, by status (all tenants; never decreases).")
            for status in JobStatus.displayOrder where status.isTerminal {
                line("quell_jobs_finished_total", [("status", status.rawValue)], stats.finishedTotals[status] ?? 0)
            }
            family("quell_pauses_total", "counter", "Jobs that ever became paused (all tenants; never decreases).")
            line("quell_pauses_total", [], stats.pausesTotal)
            family("quell_resumes_total", "counter", "Paused jobs ever resumed (all tenants; never decreases).")
            line("quell_resumes_total", [], stats.resumesTotal)
            family("quell_forced_stops_total", "counter",
                   "Handlers ever abandoned because they did not stop within the cancel grace (all tenants).")
            line("quell_forced_stops_total", [], stats.forcedStopsTotal)
            family("quell_queue_depth", "gauge", "Jobs waiting in a queue, ready to start.")
            for q in stats.queues { line("quell_queue_depth", [("queue", q.name)], q.depth) }
            family("quell_queue_scheduled", "gauge", "Delayed retries of a queue not yet due.")
            for q in stats.queues { line("quell_queue_scheduled", [("queue", q.name)], q.scheduled) }
            family("quell_workers_alive", "gauge", "Worker processes whose registration has not expired.")
            line("quell_workers_alive", [], stats.workers.filter { $0.expiresAt > now }.count)
        }

        family("quell_api_jobs_enqueued_total", "counter", "Jobs this API process accepted (202).")
        line("quell_api_jobs_enqueued_total", [], s.enqueued)
        family("quell_api_enqueue_conflicts_total", "counter", "Enqueues this API process refused with 409 conflict.")
        line("quell_api_enqueue_conflicts_total", [], s.conflicts)
        family("quell_api_cancels_total", "counter", "Cancel requests this API process answered 200, by the status answered.")
        for status in ["cancelling", "cancelled"] {
            line("quell_api_cancels_total", [("status", status)], s.cancels[status] ?? 0)
        }
        family("quell_api_cancel_latency_seconds", "histogram",
               "Time from a cancel request to the job observed cancelled, for requests with ?wait.")
        for (i, bound) in Self.latencyBuckets.enumerated() {
            line("quell_api_cancel_latency_seconds_bucket", [("le", formatBound(bound))], s.latencyCounts[i])
        }
        line("quell_api_cancel_latency_seconds_bucket", [("le", "+Inf")], s.latencyCount)
        line("quell_api_cancel_latency_seconds_sum", [], s.latencySum)
        line("quell_api_cancel_latency_seconds_count", [], s.latencyCount)
        family("quell_api_http_requests_total", "counter", "HTTP requests answered by the API handlers, by status code.")
        for code in s.requestsByCode.keys.sorted() {
            line("quell_api_http_requests_total", [("code", String(code))], s.requestsByCode[code]!)
        }
        family("quell_api_sse_clients", "gauge", "Clients connected to /v1/events.")
        line("quell_api_sse_clients", [], sseClients)
        return out
    }

    private func formatBound(_ d: Double) -> String {
        d == d.rounded() ? String(Int(d)) : String(d)
    }

    private func escapeLabel(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }
}
