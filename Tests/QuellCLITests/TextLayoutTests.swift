import Testing
@testable import QuellTerminal

@Suite struct TextLayoutTests {
    @Test func widthCountsCharactersAndWideCJK() {
        #expect(TextLayout.width("abc") == 3)
        #expect(TextLayout.width("") == 0)
        #expect(TextLayout.width("héllo") == 5)
        #expect(TextLayout.width("e\u{301}") == 1)  // combining accent: one grapheme
        #expect(TextLayout.width("日本") == 4)
        #expect(TextLayout.width("█░…↑") == 4)
        #expect(TextLayout.width("a\u{7}b") == 2)  // control characters take no column
    }

    @Test func visibleWidthSkipsEscapeSequences() {
        #expect(TextLayout.visibleWidth("\u{1B}[1;31mred\u{1B}[0m") == 3)
        #expect(TextLayout.stripANSI("a\u{1B}[2Kb\u{1B}[?25lc") == "abc")
    }

    @Test func truncateAddsEllipsisOnlyWhenNeeded() {
        #expect(TextLayout.truncate("hello", width: 5) == "hello")
        #expect(TextLayout.truncate("hello", width: 10) == "hello")
        #expect(TextLayout.truncate("hello world", width: 8) == "hello w…")
        #expect(TextLayout.truncate("hello", width: 1) == "…")
        #expect(TextLayout.truncate("hello", width: 0) == "")
        #expect(TextLayout.truncate("hello", width: -3) == "")
    }

    @Test func truncateNeverSplitsAWideCharacterOverTheLimit() {
        // "日本語" is 6 columns; in 4 columns only one wide char plus "…" fits.
        let cut = TextLayout.truncate("日本語", width: 4)
        #expect(cut == "日…")
        #expect(TextLayout.width(cut) <= 4)
    }

    @Test func paddingAndFit() {
        #expect(TextLayout.padRight("ab", to: 4) == "ab  ")
        #expect(TextLayout.padLeft("ab", to: 4) == "  ab")
        #expect(TextLayout.padRight("abcdef", to: 4) == "abcdef")  // never shortens
        #expect(TextLayout.fit("abcdef", width: 4) == "abc…")
        #expect(TextLayout.fit("ab", width: 4, align: .right) == "  ab")
        #expect(TextLayout.fit("日本語", width: 4) == "日… ")
        #expect(TextLayout.fit("x", width: 0) == "")
    }

    @Test func barIsExactAtTheEnds() {
        #expect(TextLayout.bar(fraction: 0, width: 10) == "░░░░░░░░░░")
        #expect(TextLayout.bar(fraction: 1, width: 10) == "██████████")
        #expect(TextLayout.bar(fraction: 0.5, width: 10) == "█████░░░░░")
        #expect(TextLayout.bar(fraction: 0.999, width: 10) == "█████████░")  // full only at 100 %
        #expect(TextLayout.bar(fraction: 0.001, width: 10) == "░░░░░░░░░░")
        #expect(TextLayout.bar(fraction: 0.5, width: 4, ascii: true) == "##--")
        #expect(TextLayout.bar(fraction: 1, width: 3, ascii: true) == "###")
    }

    @Test func barClampsOddInput() {
        #expect(TextLayout.bar(fraction: -1, width: 4) == "░░░░")
        #expect(TextLayout.bar(fraction: 7, width: 4) == "████")
        #expect(TextLayout.bar(fraction: .nan, width: 4) == "░░░░")
        #expect(TextLayout.bar(fraction: .infinity, width: 4) == "████")
        #expect(TextLayout.bar(fraction: 0.5, width: 0) == "")
    }

    @Test func barWidthIsAlwaysExact() {
        for width in 0...40 {
            for step in 0...100 {
                let bar = TextLayout.bar(fraction: Double(step) / 100, width: width)
                #expect(bar.count == width)
            }
        }
    }

    @Test(arguments: [
        (0.0, "0s"), (0.9, "0s"), (-5, "0s"), (4, "4s"), (4.99, "4s"), (59, "59s"),
        (60, "1m00s"), (125, "2m05s"), (3_599, "59m59s"), (3_600, "1h00m"), (3_720, "1h02m"),
        (86_399, "23h59m"), (86_400, "1d00h"), (3 * 86_400 + 4 * 3_600 + 59, "3d04h"),
    ] as [(Double, String)])
    func durations(seconds: Double, expected: String) {
        #expect(TextLayout.duration(seconds) == expected)
    }

    @Test func durationSurvivesHugeAndNaN() {
        #expect(TextLayout.duration(.nan) == "0s")
        #expect(TextLayout.duration(.infinity) == "0s")
        #expect(TextLayout.duration(1e300) == "9999d00h")
    }
}
