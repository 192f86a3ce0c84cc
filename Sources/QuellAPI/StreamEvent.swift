import Quell

/// One entry of the events stream: its stream id and the job right after the change.
struct StreamEvent: Sendable {
    var id: String
    var job: Job

    init(id: String, job: Job) {
        self.id = id
        self.job = job
    }

    init(_ event: JobEvent) {
        self.init(id: event.id, job: event.job)
    }
}

/// An event id, ordered as the events are: a Redis stream id,
/// `milliseconds-sequence`, for the last event of a stream entry, and
/// `milliseconds-sequence.index` for one before it in the same entry (a
/// transition call writes its events as one entry; see `Quell.EventID`).
struct StreamID: Comparable, Sendable, CustomStringConvertible {
    var milliseconds: UInt64
    var sequence: UInt64
    /// The event's index in its entry; nil: the entry's last (after every indexed one).
    var index: UInt64?

    static let zero = StreamID(milliseconds: 0, sequence: 0)

    init(milliseconds: UInt64, sequence: UInt64, index: UInt64? = nil) {
        self.milliseconds = milliseconds
        self.sequence = sequence
        self.index = index
    }

    /// `123-4`, `123` (sequence 0) or `123-4.5`; nil for anything else.
    init?(_ text: some StringProtocol) {
        // The `.index` suffix is the store's (`EventID`); the rest a stream id.
        guard let event = EventID(String(text)) else { return nil }
        let parts = event.entry.split(separator: "-", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count <= 2, let ms = UInt64(parts[0]), parts[0].allSatisfy(\.isASCIIDigit) else { return nil }
        var seq: UInt64 = 0
        if parts.count == 2 {
            guard let s = UInt64(parts[1]), parts[1].allSatisfy(\.isASCIIDigit) else { return nil }
            seq = s
        }
        self.init(milliseconds: ms, sequence: seq, index: event.index.map(UInt64.init))
    }

    static func < (a: StreamID, b: StreamID) -> Bool {
        (a.milliseconds, a.sequence, a.index ?? .max) < (b.milliseconds, b.sequence, b.index ?? .max)
    }

    var description: String {
        index.map { "\(milliseconds)-\(sequence).\($0)" } ?? "\(milliseconds)-\(sequence)"
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
