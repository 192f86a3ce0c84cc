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

/// A Redis stream id, `milliseconds-sequence`, ordered as Redis orders them.
struct StreamID: Comparable, Sendable, CustomStringConvertible {
    var milliseconds: UInt64
    var sequence: UInt64

    static let zero = StreamID(milliseconds: 0, sequence: 0)

    init(milliseconds: UInt64, sequence: UInt64) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    /// `123-4` or `123` (sequence 0); nil for anything else.
    init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "-", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count <= 2, let ms = UInt64(parts[0]), parts[0].allSatisfy(\.isASCIIDigit) else { return nil }
        var seq: UInt64 = 0
        if parts.count == 2 {
            guard let s = UInt64(parts[1]), parts[1].allSatisfy(\.isASCIIDigit) else { return nil }
            seq = s
        }
        self.init(milliseconds: ms, sequence: seq)
    }

    static func < (a: StreamID, b: StreamID) -> Bool {
        (a.milliseconds, a.sequence) < (b.milliseconds, b.sequence)
    }

    var description: String { "\(milliseconds)-\(sequence)" }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
