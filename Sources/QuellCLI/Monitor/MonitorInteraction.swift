import FoundationEssentials
import QuellTerminal

/// The live monitor's screen state, apart from the terminal: the latest
/// snapshot, which running job is selected, and what the prompt line says.
/// Keys go in, actions come out; `lines` renders with `MonitorRenderer`.
/// Pure (time is passed in), so every key path is tested without a terminal.
struct MonitorInteraction {
    enum Action: Equatable {
        /// Nothing changed.
        case none
        /// The screen changed: draw it.
        case redraw
        case quit
        /// The user confirmed: cancel this job (and draw).
        case cancel(String)
        /// Pause this running job (and draw).
        case pause(String)
        /// Resume this paused job (and draw).
        case resume(String)
    }

    enum Prompt: Equatable {
        /// `Cancel job …? y/n`
        case confirm(id: String)
        /// A note shown until `until`.
        case message(String, until: Date)
    }

    private(set) var snapshot: MonitorSnapshot
    /// The selected running job, followed by id across snapshots.
    private(set) var selectedID: String?
    /// Where the selection was, to land near it when its job leaves.
    private var selectedHint = 0
    private(set) var prompt: Prompt?
    /// Why the last refresh failed (Redis down, say); cleared by the next snapshot.
    var trouble: String?

    /// How long notes stay on the prompt line.
    static let noteSeconds = 3.0

    init(snapshot: MonitorSnapshot) {
        self.snapshot = snapshot
        reselect()
    }

    /// Index of the selected job in `snapshot.running`.
    var selectedIndex: Int? {
        guard let selectedID else { return nil }
        return snapshot.running.firstIndex { $0.id == selectedID }
    }

    var selectedJob: MonitorSnapshot.RunningJob? { selectedIndex.map { snapshot.running[$0] } }

    mutating func update(_ next: MonitorSnapshot) {
        snapshot = next
        trouble = nil
        reselect()
        // A confirmation for a job that has ended meanwhile is moot.
        if case .confirm(let id)? = prompt, !next.running.contains(where: { $0.id == id }) {
            prompt = .message("job \(id) is no longer running", until: next.takenAt.addingTimeInterval(Self.noteSeconds))
        }
    }

    /// Shows a note on the prompt line (unless a confirmation is pending)
    /// for `seconds` (`.infinity`: until the next note).
    mutating func note(_ text: String, now: Date, seconds: Double = noteSeconds) {
        if case .confirm? = prompt { return }
        prompt = .message(text, until: seconds.isFinite ? now.addingTimeInterval(seconds) : .distantFuture)
    }

    mutating func handle(_ key: Key, now: Date) -> Action {
        if case .confirm(let id)? = prompt {
            switch key {
            case .character("y"), .character("Y"):
                prompt = .message("cancelling job \(id)…", until: now.addingTimeInterval(Self.noteSeconds))
                return .cancel(id)
            case .ctrlC:
                return .quit
            default:
                prompt = .message("not cancelled", until: now.addingTimeInterval(Self.noteSeconds))
                return .redraw
            }
        }
        switch key {
        case .character("q"), .character("Q"), .ctrlC:
            return .quit
        case .up, .character("k"):
            return move(by: -1)
        case .down, .character("j"):
            return move(by: 1)
        case .home:
            return move(by: -snapshot.running.count)
        case .end:
            return move(by: snapshot.running.count)
        case .character("c"), .character("C"):
            guard let job = selectedJob else {
                note("no running job to cancel", now: now)
                return .redraw
            }
            if job.status == .cancelling {
                note("job \(job.id) is already cancelling", now: now)
                return .redraw
            }
            prompt = .confirm(id: job.id)
            return .redraw
        case .character("p"), .character("P"):
            // Pausing loses nothing (the job keeps its cursor): no y/n.
            guard let job = selectedJob else {
                note("no job to pause or resume", now: now)
                return .redraw
            }
            switch job.status {
            case .running:
                note("pausing job \(job.id)…", now: now)
                return .pause(job.id)
            case .paused:
                note("resuming job \(job.id)…", now: now)
                return .resume(job.id)
            case .pausing:
                note("job \(job.id) is already pausing (resume it once it is paused)", now: now)
                return .redraw
            default:
                note("job \(job.id) is \(job.status.rawValue): it cannot be paused", now: now)
                return .redraw
            }
        case .escape:
            guard prompt != nil else { return .none }
            prompt = nil
            return .redraw
        default:
            return .none
        }
    }

    /// What the prompt line says now, or nil for the key help.
    func promptLine(now: Date) -> String? {
        switch prompt {
        case .confirm(let id)?:
            var what = ""
            if let job = snapshot.running.first(where: { $0.id == id }) {
                what = " (\(job.type), " + (job.key.map { "\(job.tenant)/\($0)" } ?? job.tenant) + ")"
            }
            return "Cancel job \(id)\(what)? y/n"
        case .message(let text, let until)? where now < until:
            return text
        default:
            return trouble.map { "\($0) (retrying)" }
        }
    }

    func lines(width: Int, height: Int, color: Bool, now: Date) -> [String] {
        MonitorRenderer.screen(snapshot, width: width, height: height, selected: selectedIndex, color: color,
                               prompt: promptLine(now: now))
    }

    private mutating func move(by delta: Int) -> Action {
        guard !snapshot.running.isEmpty else { return .none }
        let current = selectedIndex ?? 0
        let target = min(max(current + delta, 0), snapshot.running.count - 1)
        guard target != selectedIndex else { return .none }
        select(target)
        return .redraw
    }

    private mutating func select(_ index: Int) {
        selectedID = snapshot.running[index].id
        selectedHint = index
    }

    /// Keeps the selected job if it is still running, else the one now at
    /// its place (or the last), else nothing.
    private mutating func reselect() {
        if let index = selectedIndex {
            selectedHint = index
            return
        }
        if snapshot.running.isEmpty {
            selectedID = nil
            return
        }
        select(min(selectedHint, snapshot.running.count - 1))
    }
}
