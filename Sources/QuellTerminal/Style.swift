#if canImport(Glibc)
import Glibc
#endif

/// ANSI text styling that emits nothing at all when colour is off.
public struct Style: Sendable, Equatable {
    /// The eight basic colours plus gray (bright black).
    public enum Color: Sendable, Hashable {
        case black, red, green, yellow, blue, magenta, cyan, white, gray

        var foregroundCode: Int {
            switch self {
            case .black: 30
            case .red: 31
            case .green: 32
            case .yellow: 33
            case .blue: 34
            case .magenta: 35
            case .cyan: 36
            case .white: 37
            case .gray: 90
            }
        }
    }

    /// One SGR attribute.
    public enum Attribute: Sendable, Hashable {
        case bold, dim, underline, inverse
        case foreground(Color)
        case background(Color)

        var code: Int {
            switch self {
            case .bold: 1
            case .dim: 2
            case .underline: 4
            case .inverse: 7
            case .foreground(let color): color.foregroundCode
            case .background(let color): color.foregroundCode + 10
            }
        }
    }

    /// Whether escape sequences are emitted.
    public let enabled: Bool

    public init(enabled: Bool) { self.enabled = enabled }

    /// A style that never emits escape sequences.
    public static let plain = Style(enabled: false)

    /// Colour is on unless `NO_COLOR` is set to a non-empty value
    /// (no-color.org), `TERM` is `dumb`, or the output is not a terminal.
    public static func colorEnabled(environment: [String: String], isTerminal: Bool) -> Bool {
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return false }
        if environment["TERM"] == "dumb" { return false }
        return isTerminal
    }

    /// The style for a file descriptor (standard output by default), from
    /// the process environment and `isatty`.
    public static func detect(fd: Int32 = 1, environment: [String: String]) -> Style {
        Style(enabled: colorEnabled(environment: environment, isTerminal: isatty(fd) == 1))
    }

    /// The SGR sequence selecting `attributes` (empty when off or none).
    public func sequence(_ attributes: [Attribute]) -> String {
        guard enabled, !attributes.isEmpty else { return "" }
        return "\u{1B}[" + attributes.map { String($0.code) }.joined(separator: ";") + "m"
    }

    /// The SGR reset sequence (empty when off).
    public var reset: String { enabled ? "\u{1B}[0m" : "" }

    /// `text` wrapped in `attributes` and a reset; `text` unchanged when off.
    public func apply(_ text: String, _ attributes: [Attribute]) -> String {
        guard enabled, !attributes.isEmpty, !text.isEmpty else { return text }
        return sequence(attributes) + text + reset
    }

    public func apply(_ text: String, _ attributes: Attribute...) -> String { apply(text, attributes) }
    public func bold(_ text: String) -> String { apply(text, [.bold]) }
    public func dim(_ text: String) -> String { apply(text, [.dim]) }
    public func inverse(_ text: String) -> String { apply(text, [.inverse]) }
    public func color(_ text: String, _ color: Color) -> String { apply(text, [.foreground(color)]) }
}
