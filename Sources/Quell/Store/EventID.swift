import FoundationEssentials

/// An event's id. A transition call appends its events to the stream as one
/// entry (one `XADD` per call, not per change), so an entry holds one or
/// more events: the last of an entry has the entry's stream id
/// (`1732412345678-0`), each one before it that id and its index in the
/// entry (`1732412345678-0.0`, `1732412345678-0.1`, …). A plain stream id
/// therefore means "through the whole entry", so `XREAD` after it and
/// `lastEventID()` (the newest entry's id) need no translation; an indexed
/// one, "through that event of the entry", is resumed with an inclusive
/// `XRANGE` that drops what was seen.
package struct EventID: Sendable, Equatable {
    /// The stream entry's id.
    package var entry: String
    /// The event's index in its entry; nil: the entry's last event.
    package var index: Int?

    /// `entry` or `entry.index`; nil when `text` has neither form.
    package init?(_ text: String) {
        if let dot = text.firstIndex(of: ".") {
            let digits = text[text.index(after: dot)...]
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let i = Int(digits) else { return nil }
            entry = String(text[..<dot])
            index = i
        } else {
            entry = text
            index = nil
        }
        guard !entry.isEmpty, !entry.contains(".") else { return nil }
    }

    /// `text` as an event id, or `.invalid` naming it.
    static func parse(_ text: String) throws(QuellError) -> EventID {
        guard let id = EventID(text) else { throw .invalid("not an event id: \(text.prefix(60))") }
        return id
    }

    package init(entry: String, index: Int?) {
        self.entry = entry
        self.index = index
    }

    /// Whether event `i` of stream entry `other` comes after this one
    /// (for entries from this one's on).
    func isBefore(entry other: String, index i: Int) -> Bool {
        guard other == entry else { return true }
        guard let index else { return false }
        return i > index
    }

    /// Whether event `i` of stream entry `other` is this one or before it
    /// (for entries up to this one's).
    func isAtOrAfter(entry other: String, index i: Int) -> Bool {
        guard other == entry, let index else { return true }
        return i <= index
    }

    package var text: String { index.map { "\(entry).\($0)" } ?? entry }

    /// The id of event `i` of the `count` in entry `entry`.
    static func text(entry: String, index i: Int, of count: Int) -> String {
        i == count - 1 ? entry : "\(entry).\(i)"
    }
}
