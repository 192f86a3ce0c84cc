import Testing
@testable import QuellTerminal

@Suite struct KeyDecoderTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func lettersEnterAndControls() {
        #expect(KeyDecoder.decode(bytes("qc")) == [.character("q"), .character("c")])
        #expect(KeyDecoder.decode([0x0D, 0x0A]) == [.enter, .enter])
        #expect(KeyDecoder.decode([0x03]) == [.ctrlC])
        #expect(KeyDecoder.decode([0x04, 0x09, 0x7F, 0x08]) == [.control("d"), .tab, .backspace, .backspace])
        #expect(KeyDecoder.decode([0x00, 0x1C]) == [])
    }

    @Test func arrowsInBothModes() {
        #expect(KeyDecoder.decode(bytes("\u{1B}[A\u{1B}[B\u{1B}[C\u{1B}[D")) == [.up, .down, .right, .left])
        #expect(KeyDecoder.decode(bytes("\u{1B}OA\u{1B}OB")) == [.up, .down])
        #expect(KeyDecoder.decode(bytes("\u{1B}[1;5A")) == [.up])  // with a modifier
    }

    @Test func pagingHomeEndDelete() {
        #expect(KeyDecoder.decode(bytes("\u{1B}[5~\u{1B}[6~")) == [.pageUp, .pageDown])
        #expect(KeyDecoder.decode(bytes("\u{1B}[H\u{1B}[F\u{1B}[1~\u{1B}[4~")) == [.home, .end, .home, .end])
        #expect(KeyDecoder.decode(bytes("\u{1B}[3~\u{1B}[5;2~")) == [.delete, .pageUp])
    }

    @Test func escapeAlone() {
        #expect(KeyDecoder.decode([0x1B]) == [.escape])
        #expect(KeyDecoder.decode([0x1B, 0x1B]) == [.escape, .escape])
        #expect(KeyDecoder.decode(bytes("\u{1B}q")) == [.escape, .character("q")])
    }

    @Test func loneEscapeWaitsForFlush() {
        var decoder = KeyDecoder()
        #expect(decoder.feed([0x1B]) == [])
        #expect(decoder.hasPending)
        #expect(decoder.flush() == [.escape])
        #expect(!decoder.hasPending)
    }

    @Test func sequencesSplitAcrossReads() {
        var decoder = KeyDecoder()
        #expect(decoder.feed([0x1B]) == [])
        #expect(decoder.feed(bytes("[")) == [])
        #expect(decoder.feed(bytes("5")) == [])
        #expect(decoder.feed(bytes("~j")) == [.pageUp, .character("j")])
        #expect(!decoder.hasPending)
    }

    @Test func utf8CharactersAndSplits() {
        #expect(KeyDecoder.decode(bytes("é日")) == [.character("é"), .character("日")])
        var decoder = KeyDecoder()
        let snowman = bytes("☃")
        #expect(decoder.feed(snowman[0..<1]) == [])
        #expect(decoder.feed(snowman[1..<3]) == [.character("☃")])
    }

    @Test func garbageIsDroppedNotFatal() {
        #expect(KeyDecoder.decode([0xFF, 0x80, UInt8(ascii: "a")]) == [.character("a")])
        #expect(KeyDecoder.decode([0xE2, UInt8(ascii: "a")]) == [.character("a")])  // truncated UTF-8
        #expect(KeyDecoder.decode(bytes("\u{1B}[99~x")) == [.character("x")])  // unknown CSI
        #expect(KeyDecoder.decode(bytes("\u{1B}[Zx")) == [.character("x")])  // shift-tab: ignored
        #expect(KeyDecoder.decode(bytes("\u{1B}OZx")) == [.character("x")])
        #expect(KeyDecoder.decode([0x1B, UInt8(ascii: "["), 0x03]) == [.ctrlC])  // broken CSI then Ctrl-C
    }

    @Test func neverCrashesOnRandomBytes() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let length = Int.random(in: 0...24, using: &generator)
            let input = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var decoder = KeyDecoder()
            var split = input.startIndex
            if !input.isEmpty { split = Int.random(in: 0...input.count, using: &generator) }
            _ = decoder.feed(input[..<split])
            _ = decoder.feed(input[split...])
            _ = decoder.flush()
            #expect(!decoder.hasPending)
        }
    }
}
