import FoundationEssentials
import Quell
import QuellDemo
import QuellTerminal

/// A plain text table: a header row and aligned columns two spaces apart,
/// no trailing spaces. Widths are display widths (wide characters count 2);
/// a column with `maxWidth` truncates longer cells with an ellipsis.
struct TextTable {
    struct Column {
        var title: String
        var alignRight = false
        var maxWidth: Int? = nil
    }

    var columns: [Column]
    var rows: [[String]] = []

    init(_ columns: [Column]) {
        self.columns = columns
    }

    mutating func append(_ row: [String]) {
        rows.append(row)
    }

    /// The table, one line per row after the header; each line ends with a newline.
    func render() -> String {
        let cells = ([columns.map(\.title)] + rows).map { row in
            columns.indices.map { index -> String in
                let text = MonitorRenderer.clean(index < row.count ? row[index] : "")
                guard let limit = columns[index].maxWidth else { return text }
                return TextLayout.truncate(text, width: limit)
            }
        }
        let widths = columns.indices.map { index in cells.map { TextLayout.width($0[index]) }.max() ?? 0 }
        var out = ""
        for row in cells {
            var line = ""
            for (index, text) in row.enumerated() {
                if index > 0 { line += "  " }
                line += columns[index].alignRight
                    ? TextLayout.padLeft(text, to: widths[index])
                    : TextLayout.padRight(text, to: widths[index])
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
        }
        return out
    }
}

/// How commands show jobs to people (JSON always comes from `Job.json`).
enum JobText {
    /// `2025-06-01 12:00:00` in UTC.
    static func time(_ date: Date?) -> String {
        guard let date else { return "-" }
        let text = Job.rfc3339(date)  // 2025-06-01T12:00:00.000Z
        return String(text.prefix(19)).replacing("T", with: " ")
    }

    /// Counters in a stable order: `synced`, `failed`, then the rest by name.
    static func orderedCounters(_ counters: [String: Int]) -> [(name: String, value: Int)] {
        let first = ["synced", "failed"]
        let rest = counters.keys.filter { !first.contains($0) }.sorted()
        return (first.filter { counters[$0] != nil } + rest).map { ($0, counters[$0]!) }
    }

    /// `synced 8, failed 1`, or nil without counters.
    static func counters(_ progress: JobProgress?) -> String? {
        guard let progress, !progress.counters.isEmpty else { return nil }
        return orderedCounters(progress.counters).map { "\($0.name) \($0.value)" }.joined(separator: ", ")
    }

    /// `45% 9/20`, `9/20`, `45%` or `-`.
    static func progress(_ progress: JobProgress?) -> String {
        guard let progress else { return "-" }
        var parts: [String] = []
        if let percent = progress.percent, percent.isFinite { parts.append("\(Int(percent.rounded(.down)))%") }
        switch (progress.current, progress.total) {
        case (let c?, let t?): parts.append("\(c)/\(t)")
        case (let c?, nil): parts.append("\(c)")
        case (nil, let t?): parts.append("?/\(t)")
        case (nil, nil): break
        }
        return parts.isEmpty ? "-" : parts.joined(separator: " ")
    }

    /// The `quell jobs list` table.
    static func table(_ jobs: [Job]) -> String {
        var table = TextTable([
            .init(title: "ID"), .init(title: "STATUS"), .init(title: "TYPE", maxWidth: 32),
            .init(title: "TENANT", maxWidth: 24), .init(title: "KEY", maxWidth: 40), .init(title: "QUEUE", maxWidth: 24),
            .init(title: "TRY", alignRight: true), .init(title: "RESUMES", alignRight: true), .init(title: "PROGRESS"),
            .init(title: "CREATED (UTC)"),
        ])
        for job in jobs {
            table.append([
                job.id, job.status.rawValue, job.type, job.tenant, job.key ?? "-", job.queue,
                "\(job.attempt)/\(job.maxAttempts)", job.resumes == 0 ? "-" : String(job.resumes), progress(job.progress),
                time(job.createdAt),
            ])
        }
        return table.render()
    }

    /// The `quell jobs show` view: one `name  value` line per field.
    static func details(_ job: Job, now: Date = Date(), keys: Keys? = nil) -> String {
        func ago(_ date: Date?) -> String {
            guard let date else { return "-" }
            return "\(time(date))  (\(TextLayout.duration(now.timeIntervalSince(date))) ago)"
        }
        var rows: [(String, String)] = [
            ("id", job.id),
            ("type", job.type),
            ("status", job.status.rawValue),
            ("tenant", job.tenant),
            ("key", job.key ?? "-"),
            ("queue", job.queue),
            ("attempt", "\(job.attempt) of \(job.maxAttempts)"),
            ("version", String(job.version)),
            ("created", ago(job.createdAt)),
            ("started", ago(job.startedAt)),
            ("heartbeat", ago(job.heartbeatAt)),
            ("completed", ago(job.completedAt)),
            ("deadline", time(job.deadlineAt)),
        ]
        if let paused = job.pausedAt { rows.append(("paused", ago(paused) + "  (quell jobs resume \(job.id))")) }
        rows.append(("resumes", String(job.resumes)))
        if let expected = job.expectedDurationSeconds {
            rows.append(("expected", TextLayout.duration(expected) + (job.timeoutSeconds != nil ? " (fixed timeout)" : "")))
        }
        rows.append(("worker", job.worker ?? "-"))
        if let p = job.progress {
            rows.append(("stage", p.stage ?? "-"))
            rows.append(("progress", progress(p)))
            rows.append(("counters", counters(p) ?? "-"))
        } else {
            rows.append(("progress", "-"))
        }
        if let error = job.error { rows.append(("error", error)) }
        if let cancel = job.cancel {
            rows.append(("cancel", "requested \(time(cancel.requestedAt)), reason \(cancel.reason)"))
        }
        rows.append(("params", job.params ?? "-"))
        if job.type == "demo.sync", let keys {
            // The demo task writes what it synced here, so partial work is visible after a cancel.
            let source = job.params.flatMap { try? JSONValue.parse($0) }?["source"]?.stringValue ?? "inbox-1"
            rows.append(("output", DemoTasks.syncedKey(keys, tenant: job.tenant, source: source) + " (a set)"))
        }
        let width = rows.map { $0.0.count }.max() ?? 0
        return rows.map { name, value in
            TextLayout.padRight(name, to: width) + "  " + MonitorRenderer.clean(value) + "\n"
        }.joined()
    }
}
