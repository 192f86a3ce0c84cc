/// Escape sequences for screen control (pure strings, nothing written).
public enum ANSI {
    public static let enterAlternateScreen = "\u{1B}[?1049h"
    public static let leaveAlternateScreen = "\u{1B}[?1049l"
    public static let hideCursor = "\u{1B}[?25l"
    public static let showCursor = "\u{1B}[?25h"
    /// Clears the whole screen (cursor not moved).
    public static let clearScreen = "\u{1B}[2J"
    /// Clears from the cursor to the end of its line.
    public static let clearToEndOfLine = "\u{1B}[K"
    /// Clears from the cursor to the end of the screen.
    public static let clearToEndOfScreen = "\u{1B}[J"
    /// Moves the cursor to the top-left corner.
    public static let home = "\u{1B}[H"
    /// Resets all SGR attributes.
    public static let resetAttributes = "\u{1B}[0m"

    /// Moves the cursor to `row`, `column` (both 1-based, clamped to ≥ 1).
    public static func moveCursor(row: Int, column: Int) -> String {
        "\u{1B}[\(max(row, 1));\(max(column, 1))H"
    }

    /// One full redraw of `lines` from the top-left corner: each line is
    /// followed by clear-to-end-of-line, the rest of the screen is cleared,
    /// and no newline follows the last line (so the bottom row never scrolls).
    public static func frame(_ lines: [String]) -> String {
        var out = home
        for (index, line) in lines.enumerated() {
            if index > 0 { out += "\r\n" }
            out += line + resetAttributes + clearToEndOfLine
        }
        return out + clearToEndOfScreen
    }
}
