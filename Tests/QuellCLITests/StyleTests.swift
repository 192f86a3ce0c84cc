import Testing
@testable import QuellTerminal

@Suite struct StyleTests {
    @Test func colourOffEmitsNothing() {
        let style = Style.plain
        #expect(style.bold("x") == "x")
        #expect(style.apply("x", .inverse, .foreground(.red)) == "x")
        #expect(style.reset == "")
        #expect(style.sequence([.bold]) == "")
    }

    @Test func colourOnWrapsInSGR() {
        let style = Style(enabled: true)
        #expect(style.bold("x") == "\u{1B}[1mx\u{1B}[0m")
        #expect(style.apply("x", .inverse, .foreground(.red)) == "\u{1B}[7;31mx\u{1B}[0m")
        #expect(style.color("x", .gray) == "\u{1B}[90mx\u{1B}[0m")
        #expect(style.apply("x", [.background(.blue)]) == "\u{1B}[44mx\u{1B}[0m")
        #expect(style.apply("", [.bold]) == "")
        #expect(style.apply("x", []) == "x")
    }

    @Test func detectionHonoursNoColorTermAndTTY() {
        #expect(Style.colorEnabled(environment: [:], isTerminal: true))
        #expect(!Style.colorEnabled(environment: [:], isTerminal: false))
        #expect(!Style.colorEnabled(environment: ["NO_COLOR": "1"], isTerminal: true))
        #expect(Style.colorEnabled(environment: ["NO_COLOR": ""], isTerminal: true))  // empty means unset
        #expect(!Style.colorEnabled(environment: ["TERM": "dumb"], isTerminal: true))
    }

    @Test func styledLineClipsByVisibleWidthKeepingStyles() {
        var line = StyledLine("abc", [.bold])
        line.append("defgh", [.foreground(.red)])
        #expect(line.width == 8)
        #expect(line.clipped(to: 8) == line)
        let clipped = line.clipped(to: 5)
        #expect(clipped.plainText == "abcd…")
        #expect(clipped.spans == [Span("abc", [.bold]), Span("d…", [.foreground(.red)])])
        #expect(line.clipped(to: 3).spans == [Span("ab…", [.bold])])
        #expect(line.clipped(to: 0).spans.isEmpty)
    }

    @Test func styledLineFitsAndRenders() {
        let line = StyledLine("ab", [.bold]).fitted(to: 4)
        #expect(line.plainText == "ab  ")
        #expect(line.render(.plain) == "ab  ")
        #expect(line.render(Style(enabled: true)) == "\u{1B}[1mab\u{1B}[0m  ")
        #expect(line.render(Style(enabled: true), extra: [.inverse]) == "\u{1B}[7;1mab\u{1B}[0m\u{1B}[7m  \u{1B}[0m")
        var same = StyledLine("a", [.bold])
        same.append("b", [.bold])
        same.append("c")
        #expect(same.render(Style(enabled: true)) == "\u{1B}[1mab\u{1B}[0mc")  // one sequence for "ab"
    }

    @Test func frameRedrawsFromHomeWithoutTrailingNewline() {
        let frame = ANSI.frame(["one", "two"])
        #expect(frame == "\u{1B}[H" + "one\u{1B}[0m\u{1B}[K" + "\r\n" + "two\u{1B}[0m\u{1B}[K" + "\u{1B}[J")
        #expect(ANSI.moveCursor(row: 3, column: 7) == "\u{1B}[3;7H")
        #expect(ANSI.moveCursor(row: 0, column: -1) == "\u{1B}[1;1H")
    }
}

@Suite struct StyledLineTrimTests {
    @Test func trimAndRightAlign() {
        var line = StyledLine("ab", [.bold])
        line.append("  ")
        line.append(" ", [.dim])
        #expect(line.trimmingTrailingSpaces().spans == [Span("ab", [.bold])])
        #expect(StyledLine("   ").trimmingTrailingSpaces().spans.isEmpty)
        #expect(StyledLine("a b ").trimmingTrailingSpaces().plainText == "a b")
        #expect(StyledLine("ab").fittedRight(to: 4).plainText == "  ab")
        #expect(StyledLine("abcdef").fittedRight(to: 4).plainText == "abc…")
    }
}
