/// Pure text helpers for fixed-width terminal layout: display width,
/// truncation with an ellipsis, padding, progress bars and short durations.
///
/// Width model: one column per `Character` (grapheme cluster), two for wide
/// East Asian characters and common emoji, zero for control characters.
/// ANSI escape sequences are not understood here; use `visibleWidth(_:)` for
/// strings that may contain them.
public enum TextLayout {
    /// The ellipsis appended by `truncate(_:width:)`.
    public static let ellipsis = "…"

    /// Terminal columns taken by one character.
    public static func width(of character: Character) -> Int {
        guard let scalar = character.unicodeScalars.first else { return 0 }
        let value = scalar.value
        if value < 0x20 || (0x7F..<0xA0).contains(value) { return 0 }
        if isWide(value) { return 2 }
        return 1
    }

    /// Terminal columns taken by `text` (no escape sequences expected).
    public static func width(_ text: some StringProtocol) -> Int {
        var total = 0
        for character in text { total += width(of: character) }
        return total
    }

    /// Terminal columns taken by `text`, skipping ANSI CSI escape sequences.
    public static func visibleWidth(_ text: String) -> Int {
        width(stripANSI(text))
    }

    /// `text` without ANSI CSI escape sequences (`ESC [ … final`).
    public static func stripANSI(_ text: String) -> String {
        guard text.contains("\u{1B}") else { return text }
        var out = String.UnicodeScalarView()
        var iterator = text.unicodeScalars.makeIterator()
        while let scalar = iterator.next() {
            guard scalar == "\u{1B}" else { out.append(scalar); continue }
            guard let next = iterator.next() else { break }
            guard next == "[" else { continue }  // two-byte escape: drop both
            while let byte = iterator.next() {
                if (0x40...0x7E).contains(byte.value) { break }
            }
        }
        return String(out)
    }

    /// `text` cut to at most `width` columns; when it does not fit, the end
    /// is replaced by an ellipsis so the result is at most `width` columns.
    public static func truncate(_ text: String, width maxWidth: Int) -> String {
        guard maxWidth > 0 else { return "" }
        if width(text) <= maxWidth { return text }
        let budget = maxWidth - width(ellipsis)
        var out = ""
        var used = 0
        for character in text {
            let w = width(of: character)
            if used + w > budget { break }
            out.append(character)
            used += w
        }
        return out + ellipsis
    }

    /// `text` followed by spaces up to `width` columns (never shortened).
    public static func padRight(_ text: String, to targetWidth: Int) -> String {
        let missing = targetWidth - width(text)
        return missing > 0 ? text + String(repeating: " ", count: missing) : text
    }

    /// Spaces then `text`, up to `width` columns (never shortened).
    public static func padLeft(_ text: String, to targetWidth: Int) -> String {
        let missing = targetWidth - width(text)
        return missing > 0 ? String(repeating: " ", count: missing) + text : text
    }

    /// Alignment for `fit(_:width:align:)`.
    public enum Alignment: Sendable { case left, right }

    /// `text` truncated (with an ellipsis) and padded to exactly `width` columns.
    public static func fit(_ text: String, width targetWidth: Int, align: Alignment = .left) -> String {
        guard targetWidth > 0 else { return "" }
        let cut = truncate(text, width: targetWidth)
        switch align {
        case .left: return padRight(cut, to: targetWidth)
        case .right: return padLeft(cut, to: targetWidth)
        }
    }

    /// A progress bar of exactly `width` columns. Full only at 100 %, empty
    /// at 0 %; in between the filled part is rounded down. Fractions are
    /// clamped to 0…1 and NaN counts as 0. ASCII mode uses `#` and `-`.
    public static func bar(fraction: Double, width: Int, ascii: Bool = false) -> String {
        guard width > 0 else { return "" }
        let clamped = fraction.isNaN ? 0 : min(max(fraction, 0), 1)
        var filled = Int((clamped * Double(width)).rounded(.down))
        if clamped < 1 { filled = min(filled, width - 1) }
        let full: Character = ascii ? "#" : "█"
        let empty: Character = ascii ? "-" : "░"
        return String(repeating: full, count: filled) + String(repeating: empty, count: width - filled)
    }

    /// A short duration, rounded down: `4s`, `2m05s`, `1h02m`, `3d04h`.
    /// Negative, NaN and sub-second values give `0s`.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 1 else { return "0s" }
        let total = Int(min(seconds, 9_999 * 86_400).rounded(.down))
        if total < 60 { return "\(total)s" }
        if total < 3_600 { return "\(total / 60)m\(twoDigits(total % 60))s" }
        if total < 86_400 { return "\(total / 3_600)h\(twoDigits(total % 3_600 / 60))m" }
        return "\(total / 86_400)d\(twoDigits(total % 86_400 / 3_600))h"
    }

    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }

    private static func isWide(_ v: UInt32) -> Bool {
        switch v {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF,
             0x4E00...0x9FFF, 0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF,
             0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
             0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            return true
        default:
            return false
        }
    }
}
