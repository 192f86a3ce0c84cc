import Quell
@testable import QuellAPI
import Testing

/// Event ids: a stream entry's id for its last event, `id.index` for the ones
/// before it (a transition call's events are one entry).
@Suite struct EventIDTests {
    @Test func streamIDsParseBothFormsAndOrderAsTheEventsCome() throws {
        let texts = ["5-0.0", "5-0.1", "5-0", "5-1.0", "5-1", "6-0"]
        let ids = try texts.map { try #require(StreamID($0)) }
        #expect(ids.map(\.description) == texts)
        #expect(ids == ids.sorted())
        for (a, b) in zip(ids, ids.dropFirst()) { #expect(a < b && !(b < a)) }
        #expect(StreamID("7") == StreamID(milliseconds: 7, sequence: 0))
        for bad in ["5-0.", "5-0.x", "5-0.1.2", ".1", "5-0.-1", "5.1-0", "-1", "5-0.+1"] {
            #expect(StreamID(bad) == nil, "\(bad)")
        }
    }

    @Test func storeEventIDsSplitIntoEntryAndIndex() throws {
        let plain = try #require(EventID("1732412345678-0"))
        #expect(plain.entry == "1732412345678-0" && plain.index == nil && plain.text == "1732412345678-0")
        let indexed = try #require(EventID("1732412345678-0.3"))
        #expect(indexed.entry == "1732412345678-0" && indexed.index == 3 && indexed.text == "1732412345678-0.3")
        for bad in ["", ".3", "1-0.", "1-0.x", "1-0.-2", "1-0.+2", "1-0.1.2"] { #expect(EventID(bad) == nil, "\(bad)") }
    }
}
