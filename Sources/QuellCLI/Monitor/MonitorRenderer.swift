import FoundationEssentials
import Glibc
import QuellTerminal

/// Renders a `MonitorSnapshot` as text. Every function here is pure: the
/// same snapshot and parameters always give the same lines, and no line is
/// ever wider than `width` columns.
///
/// Layout, top to bottom: a header (time, totals), the counts per status,
/// then the queues, workers, running jobs (two lines each: progress, then
/// elapsed/heartbeat/stage/counters) and recent events, and in the
/// full-screen form a footer with the keys, or the prompt in its place.
public enum MonitorRenderer {

    /// The full-screen dashboard: exactly `height` lines (none wider than
    /// `width`), the footer — or `prompt` in its place — on the last line.
    /// `selected` is an index into `snapshot.running` (clamped); that job is
    /// kept visible, marked `>` and, with colour, shown inverted. When space
    /// runs short, events go first, then queues, then workers.
    public static func screen(_ snapshot: MonitorSnapshot, width: Int, height: Int, selected: Int?,
                              color: Bool, prompt: String? = nil, ascii: Bool = false) -> [String] {
        guard height > 0, width > 0 else { return [] }
        let layout = Layout(snapshot: snapshot, width: width, ascii: ascii,
                            selected: snapshot.running.isEmpty ? nil : selected.map { min(max($0, 0), snapshot.running.count - 1) })
        let style = Style(enabled: color)

        let top = layout.header() + layout.counts()
        var sections = [layout.queues(), layout.workers(), layout.runningJobs(), layout.events()]
        let bodies = allocate(&sections, available: height - top.count - 1)

        var rows = top
        for (section, body) in zip(sections, bodies) {
            rows.append(Row())
            rows.append(Row(section.title))
            rows.append(contentsOf: section.body(rows: body))
        }
        rows = Array(rows.prefix(height - 1))
        while rows.count < height - 1 { rows.append(Row()) }
        if let prompt {
            rows.append(Row(StyledLine(clean(prompt), [.bold, .foreground(.yellow)])))
        } else {
            let keys = ascii ? "up/down select  c cancel  p pause/resume  q quit" : "↑/↓ select  c cancel  p pause/resume  q quit"
            rows.append(Row(StyledLine(keys, [.dim])))
        }
        return rows.map { $0.render(width: width, style: style) }
    }

    /// The `--once` form: the same sections in full, no colour, no height
    /// limit, no footer; lines end with a newline.
    public static func plain(_ snapshot: MonitorSnapshot, width: Int = 120, ascii: Bool = false) -> String {
        guard width > 0 else { return "" }
        let layout = Layout(snapshot: snapshot, width: width, ascii: ascii, selected: nil)
        var rows = layout.header() + layout.counts()
        for section in [layout.queues(), layout.workers(), layout.runningJobs(), layout.events()] {
            rows.append(Row())
            rows.append(Row(section.title))
            rows.append(contentsOf: section.body(rows: Int.max))
        }
        return rows.map { $0.render(width: width, style: .plain) + "\n" }.joined()
    }

    /// The `--json` form: the Codable snapshot, pretty-printed, sorted keys.
    public static func json(_ snapshot: MonitorSnapshot) throws -> String {
        String(decoding: try snapshot.jsonData(pretty: true), as: UTF8.self) + "\n"
    }

    /// Body rows per section, dropping whole sections (events, then queues,
    /// then workers) when even a title and one row each do not fit.
    static func allocate(_ sections: inout [Section], available: Int) -> [Int] {
        let dropOrder: [Section.Kind] = [.events, .queues, .workers, .running]
        let fillOrder: [Section.Kind] = [.running, .workers, .queues, .events]
        for kind in dropOrder where available < sections.count * 3 {
            sections.removeAll { $0.kind == kind }
        }
        var bodies = sections.map { _ in 1 }
        var remaining = available - sections.count * 3
        for kind in fillOrder {
            guard let index = sections.firstIndex(where: { $0.kind == kind }) else { continue }
            let extra = min(remaining, sections[index].desiredBody - 1)
            if extra > 0 {
                bodies[index] += extra
                remaining -= extra
            }
        }
        return bodies
    }

    /// User-supplied text with control characters (newlines, escapes)
    /// replaced, so nothing from Redis can move the cursor or break a line.
    static func clean(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.map { isControl($0) ? "\u{FFFD}" : $0 }))
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F..<0xA0).contains(scalar.value)
    }
}

/// One screen line, possibly the selected one.
struct Row {
    var line: StyledLine
    var selected: Bool

    init(_ line: StyledLine = StyledLine(), selected: Bool = false) {
        self.line = line
        self.selected = selected
    }

    func render(width: Int, style: Style) -> String {
        if selected && style.enabled { return line.fitted(to: width).render(style, extra: [.inverse]) }
        return line.clipped(to: width).trimmingTrailingSpaces().render(style)
    }
}

/// A titled list of items (one or two rows each) that can be cut to fit.
struct Section {
    enum Kind { case queues, workers, running, events }

    var kind: Kind
    var title: StyledLine
    var items: [[Row]]
    var empty: String
    /// Rows per item.
    var itemHeight: Int
    /// Whether a cut list ends with "… N more" (not for events: they are a stream).
    var showsMore: Bool
    /// The item that must stay visible (the selected job).
    var focus: Int?

    var desiredBody: Int { items.isEmpty ? 1 : items.count * itemHeight }

    func body(rows: Int) -> [Row] {
        guard rows > 0 else { return [] }
        if items.isEmpty { return [Row(StyledLine("  " + empty, [.dim]))] }
        if items.count <= rows / itemHeight { return items.flatMap { $0 } }
        guard showsMore else { return items.prefix(rows / itemHeight).flatMap { $0 } }
        let shown = (rows - 1) / itemHeight
        var start = 0
        if let focus, shown > 0, focus >= shown { start = focus - shown + 1 }
        let more = items.count - shown
        let note = shown == 0 ? "  … \(more) hidden" : "  … \(more) more"
        return items[start..<start + shown].flatMap { $0 } + [Row(StyledLine(note, [.dim]))]
    }
}

/// Column widths and the lines of each section, for one width.
struct Layout {
    let snapshot: MonitorSnapshot
    let width: Int
    let ascii: Bool
    let selected: Int?

    var wide: Bool { width >= 110 }
    var idWidth: Int { wide ? 26 : 12 }
    var typeWidth: Int { wide ? 16 : 11 }
    var barWidth: Int { wide ? 20 : 12 }
    var doneWidth: Int { wide ? 11 : 9 }

    typealias Attributes = [Style.Attribute]

    /// A fixed-width cell: text fitted left or right, styled.
    struct Cell {
        var content: StyledLine
        var width: Int
        var alignRight = false

        init(_ text: String, _ width: Int, _ attributes: Attributes = [], right: Bool = false) {
            self.content = StyledLine(MonitorRenderer.clean(text), attributes)
            self.width = width
            self.alignRight = right
        }

        init(line: StyledLine, _ width: Int, right: Bool = false) {
            self.content = line
            self.width = width
            self.alignRight = right
        }
    }

    /// Cells side by side, one space apart.
    func row(_ cells: [Cell]) -> StyledLine {
        var line = StyledLine()
        for (index, cell) in cells.enumerated() where cell.width > 0 {
            if index > 0 { line.append(" ") }
            line.append(cell.alignRight ? cell.content.fittedRight(to: cell.width) : cell.content.fitted(to: cell.width))
        }
        return line
    }

    // MARK: Header and counts

    func header() -> [Row] {
        var left = StyledLine("Quell monitor", [.bold])
        left.append("  " + timestamp(snapshot.takenAt))
        let stale = snapshot.workers.filter(\.stale).count
        var right = "\(snapshot.counts.total) jobs, \(snapshot.workers.count) workers"
        if stale > 0 { right += " (\(stale) stale)" }
        let gap = width - left.width - TextLayout.width(right)
        if gap >= 2 {
            left.append(String(repeating: " ", count: gap))
            left.append(right, [.dim])
        }
        return [Row(left)]
    }

    func counts() -> [Row] {
        var rows: [Row] = []
        var line = StyledLine()
        for status in MonitorSnapshot.Status.allCases {
            let count = snapshot.counts[status]
            // Pausing and paused are rare: shown when there are any.
            if count == 0 && (status == .pausing || status == .paused) { continue }
            var item = StyledLine(status.rawValue + " ", count == 0 ? [.dim] : [])
            item.append(String(count), count == 0 ? [.dim] : [.bold, .foreground(color(of: status))])
            if line.width > 0, line.width + 2 + item.width > width {
                rows.append(Row(line))
                line = StyledLine()
            }
            if line.width > 0 { line.append("  ") }
            line.append(item)
        }
        rows.append(Row(line))
        return rows
    }

    // MARK: Queues

    func queues() -> Section {
        let depthWidth = 8
        let rateWidth = 8
        let nameWidth = max(width - depthWidth - rateWidth - 2, 1)
        let title = row([
            Cell("QUEUES (\(snapshot.queues.count))", nameWidth, [.bold]),
            Cell("DEPTH", depthWidth, [.dim], right: true),
            Cell("RATE/S", rateWidth, [.dim], right: true),
        ])
        let items = snapshot.queues.map { queue in
            [Row(row([
                Cell(queue.name, nameWidth),
                Cell(String(queue.depth), depthWidth, right: true),
                Cell(rate(queue.ratePerSecond), rateWidth, right: true),
            ]))]
        }
        return Section(kind: .queues, title: title, items: items, empty: "no queues", itemHeight: 1, showsMore: true)
    }

    // MARK: Workers

    func workers() -> Section {
        let busyWidth = 5
        let upWidth = 6
        let heartbeatWidth = 11
        let flexible = max(width - busyWidth - upWidth - heartbeatWidth - 4, 2)
        let idColumn = max(flexible * 11 / 20, 1)
        let queuesColumn = max(flexible - idColumn, 1)
        let stale = snapshot.workers.filter(\.stale).count
        let title = row([
            Cell("WORKERS (\(snapshot.workers.count)" + (stale > 0 ? ", \(stale) stale)" : ")"), idColumn, [.bold]),
            Cell("QUEUES", queuesColumn, [.dim]),
            Cell("BUSY", busyWidth, [.dim], right: true),
            Cell("UP", upWidth, [.dim], right: true),
            Cell("HEARTBEAT", heartbeatWidth, [.dim]),
        ])
        let items = snapshot.workers.map { worker in
            [Row(row([
                Cell(worker.id, idColumn, worker.stale ? [.dim] : []),
                Cell(worker.queues.joined(separator: ","), queuesColumn),
                Cell("\(worker.busy)/\(worker.slots)", busyWidth, right: true),
                Cell(TextLayout.duration(snapshot.takenAt.timeIntervalSince(worker.startedAt)), upWidth, right: true),
                Cell(line: heartbeat(worker.heartbeatAgeSeconds, stale: worker.stale), heartbeatWidth),
            ]))]
        }
        return Section(kind: .workers, title: title, items: items, empty: "no live workers", itemHeight: 1, showsMore: true)
    }

    // MARK: Running jobs

    func runningJobs() -> Section {
        let markedId = 2 + idWidth
        let statusWidth = 10
        let progressWidth = barWidth + 5
        let ownerWidth = max(width - markedId - typeWidth - statusWidth - progressWidth - doneWidth - 5, 1)
        let title = row([
            Cell("RUNNING (\(snapshot.running.count))", markedId, [.bold]),
            Cell("TYPE", typeWidth, [.dim]),
            Cell("TENANT/KEY", ownerWidth, [.dim]),
            Cell("STATUS", statusWidth, [.dim]),
            Cell("PROGRESS", progressWidth, [.dim]),
            Cell("DONE", doneWidth, [.dim], right: true),
        ])
        let items = snapshot.running.enumerated().map { index, job in
            let isSelected = index == selected
            var idLine = StyledLine(isSelected ? "> " : "  ", isSelected ? [.bold] : [])
            idLine.append(TextLayout.fit(MonitorRenderer.clean(job.id), width: idWidth))
            let first = row([
                Cell(line: idLine, markedId),
                Cell(job.type, typeWidth),
                Cell(job.key.map { "\(job.tenant)/\($0)" } ?? job.tenant, ownerWidth),
                Cell(job.status.rawValue, statusWidth, [.foreground(color(of: job.status))]),
                Cell(line: progress(job), progressWidth),
                Cell(done(job), doneWidth, right: true),
            ])
            return [Row(first, selected: isSelected), Row(details(job))]
        }
        return Section(kind: .running, title: title, items: items, empty: "no running jobs", itemHeight: 2,
                       showsMore: true, focus: selected)
    }

    /// `████░░░░  45%` — bar, then the percentage right-aligned in 4 columns.
    func progress(_ job: MonitorSnapshot.RunningJob) -> StyledLine {
        let fraction = job.fraction
        let bar = TextLayout.bar(fraction: fraction ?? 0, width: barWidth, ascii: ascii)
        let filled = bar.prefix { $0 == (ascii ? "#" : "█") }
        let barColor: Style.Color = switch job.status {
        case .cancelling, .pausing: .yellow
        case .paused: .blue
        default: .green
        }
        var line = StyledLine(String(filled), [.foreground(barColor)])
        line.append(String(bar.dropFirst(filled.count)), [.dim])
        let percent = fraction.map { "\(Int(($0 * 100).rounded(.down)))%" } ?? "-"
        line.append(" " + TextLayout.padLeft(percent, to: 4))
        return line
    }

    /// `9/20`, `9`, or nothing.
    func done(_ job: MonitorSnapshot.RunningJob) -> String {
        switch (job.current, job.total) {
        case (let current?, let total?): "\(current)/\(total)"
        case (let current?, nil): "\(current)"
        case (nil, let total?): "?/\(total)"
        case (nil, nil): ""
        }
    }

    /// `    elapsed 1m05s/8m20s  hb 1s  stage processing_files  synced 8  failed 1`
    func details(_ job: MonitorSnapshot.RunningJob) -> StyledLine {
        let overdue = job.expectedDurationSeconds.map { job.elapsedSeconds > $0 } ?? false
        var line = StyledLine("    elapsed ")
        line.append(TextLayout.duration(job.elapsedSeconds), overdue ? [.foreground(.yellow)] : [])
        if let expected = job.expectedDurationSeconds { line.append("/" + TextLayout.duration(expected), [.dim]) }
        line.append("  hb ")
        line.append(heartbeat(job.heartbeatAgeSeconds, stale: job.stale))
        if let stage = job.stage, !stage.isEmpty { line.append("  stage " + MonitorRenderer.clean(stage)) }
        for counter in job.counters {
            line.append("  " + MonitorRenderer.clean(counter.name) + " ")
            line.append(String(counter.value), [.bold])
        }
        return line
    }

    // MARK: Events

    func events() -> Section {
        let statusWidth = max(6, snapshot.events.map { $0.status.rawValue.count }.max() ?? 0)
        let versionWidth = max(3, snapshot.events.map { String($0.version).count }.max() ?? 0)
        let timeWidth = 8
        let textWidth = max(width - timeWidth - idWidth - typeWidth - statusWidth - versionWidth - 5, 1)
        let title = row([
            Cell("EVENTS", timeWidth, [.bold]),
            Cell("JOB", idWidth, [.dim]),
            Cell("TYPE", typeWidth, [.dim]),
            Cell("STATUS", statusWidth, [.dim]),
            Cell("VER", versionWidth, [.dim], right: true),
            Cell("TEXT", textWidth, [.dim]),
        ])
        let items = snapshot.events.map { event in
            [Row(row([
                Cell(clock(event.time), timeWidth, [.dim]),
                Cell(event.jobId, idWidth),
                Cell(event.type, typeWidth),
                Cell(event.status.rawValue, statusWidth, [.foreground(color(of: event.status))]),
                Cell(String(event.version), versionWidth, right: true),
                Cell(event.text, textWidth),
            ]))]
        }
        return Section(kind: .events, title: title, items: items, empty: "no recent events", itemHeight: 1, showsMore: false)
    }

    // MARK: Formatting

    func heartbeat(_ age: Double, stale: Bool) -> StyledLine {
        var line = StyledLine(TextLayout.duration(age))
        if stale { line.append(" STALE", [.bold, .foreground(.red)]) }
        return line
    }

    func rate(_ value: Double?) -> String {
        guard let value, value.isFinite, value >= 0 else { return "-" }
        if value < 10 { return decimal(value, digits: 2) }
        if value < 100 { return decimal(value, digits: 1) }
        return String(Int(min(value, 1e15).rounded()))
    }

    func color(of status: MonitorSnapshot.Status) -> Style.Color {
        switch status {
        case .queued: .blue
        case .running: .cyan
        case .cancelling, .pausing, .completedWithErrors: .yellow
        case .paused: .blue
        case .completed: .green
        case .failed, .timedOut: .red
        case .cancelled: .magenta
        }
    }

    /// The UTC calendar fields of a date (gmtime: Calendar and TimeZone need
    /// the ICU data of full Foundation, ~6 MiB of memory for one clock).
    private func utc(_ date: Date) -> tm {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        return parts
    }

    /// `2025-06-01 12:00:00 UTC`
    func timestamp(_ date: Date) -> String {
        let c = utc(date)
        return "\(c.tm_year + 1900)-\(two(Int(c.tm_mon) + 1))-\(two(Int(c.tm_mday))) \(two(Int(c.tm_hour))):\(two(Int(c.tm_min))):\(two(Int(c.tm_sec))) UTC"
    }

    /// `12:00:01`
    func clock(_ date: Date) -> String {
        let c = utc(date)
        return "\(two(Int(c.tm_hour))):\(two(Int(c.tm_min))):\(two(Int(c.tm_sec)))"
    }

    private func two(_ value: Int?) -> String {
        let value = value ?? 0
        return value < 10 ? "0\(value)" : "\(value)"
    }
}
