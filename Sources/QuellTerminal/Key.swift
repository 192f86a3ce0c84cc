/// A decoded key press.
public enum Key: Sendable, Hashable {
    case up, down, left, right
    case pageUp, pageDown, home, end
    case enter, escape, tab, backspace, delete
    /// A printable character (letters, digits, punctuation, non-ASCII).
    case character(Character)
    /// Ctrl plus a letter, lowercase: Ctrl-C is `.control("c")`.
    case control(Character)

    /// Ctrl-C (arrives as a key, not a signal, while the terminal is raw).
    public static let ctrlC = Key.control("c")
}

/// A pure, incremental decoder from terminal input bytes to keys.
///
/// Bytes may arrive split anywhere (an escape sequence or a UTF-8 character
/// across two reads): incomplete input is kept until the next `feed`. A lone
/// ESC is ambiguous (Esc key or the start of a sequence), so it stays pending
/// until `flush()`, which the reader calls when no more bytes follow shortly.
/// Unknown escape sequences and invalid bytes are dropped.
public struct KeyDecoder: Sendable {
    private var pending: [UInt8] = []

    public init() {}

    /// Whether bytes are waiting for more input (e.g. a lone ESC).
    public var hasPending: Bool { !pending.isEmpty }

    /// Decodes what it can from `pending + bytes`; keeps an incomplete tail.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [Key] {
        pending.append(contentsOf: bytes)
        var keys: [Key] = []
        var index = 0
        while index < pending.count {
            switch Self.decodeOne(pending, at: index, final: false) {
            case .key(let key, let length):
                keys.append(key)
                index += length
            case .skip(let length):
                index += length
            case .incomplete:
                pending.removeFirst(index)
                return keys
            }
        }
        pending.removeAll()
        return keys
    }

    /// Decodes pending bytes as if no more will come (a lone ESC is Esc).
    public mutating func flush() -> [Key] {
        var keys: [Key] = []
        var index = 0
        while index < pending.count {
            switch Self.decodeOne(pending, at: index, final: true) {
            case .key(let key, let length):
                keys.append(key)
                index += length
            case .skip(let length):
                index += length
            case .incomplete:
                index = pending.count  // cannot happen when final; be safe
            }
        }
        pending.removeAll()
        return keys
    }

    /// Decodes a complete chunk of input (feed, then flush).
    public static func decode(_ bytes: [UInt8]) -> [Key] {
        var decoder = KeyDecoder()
        return decoder.feed(bytes) + decoder.flush()
    }

    private enum Step {
        case key(Key, Int)
        case skip(Int)
        case incomplete
    }

    private static func decodeOne(_ bytes: [UInt8], at start: Int, final: Bool) -> Step {
        let byte = bytes[start]
        switch byte {
        case 0x1B:
            return decodeEscape(bytes, at: start, final: final)
        case 0x0D, 0x0A:
            return .key(.enter, 1)
        case 0x09:
            return .key(.tab, 1)
        case 0x7F, 0x08:
            return .key(.backspace, 1)
        case 0x01...0x1A:
            return .key(.control(Character(Unicode.Scalar(byte + 0x60))), 1)
        case 0x00, 0x1C...0x1F:
            return .skip(1)
        case 0x20...0x7E:
            return .key(.character(Character(Unicode.Scalar(byte))), 1)
        default:
            return decodeUTF8(bytes, at: start, final: final)
        }
    }

    private static func decodeEscape(_ bytes: [UInt8], at start: Int, final: Bool) -> Step {
        let next = start + 1
        guard next < bytes.count else { return final ? .key(.escape, 1) : .incomplete }
        switch bytes[next] {
        case UInt8(ascii: "["):
            return decodeCSI(bytes, at: start, final: final)
        case UInt8(ascii: "O"):
            guard next + 1 < bytes.count else { return final ? .key(.escape, 1) : .incomplete }
            if let key = finalKey(bytes[next + 1]) { return .key(key, 3) }
            return .skip(3)
        default:
            // ESC then something else (Esc typed before a key, or Alt-key):
            // report Esc and decode the rest on its own.
            return .key(.escape, 1)
        }
    }

    /// `ESC [ params intermediates final`, e.g. `ESC[A`, `ESC[5~`, `ESC[1;5A`.
    private static func decodeCSI(_ bytes: [UInt8], at start: Int, final: Bool) -> Step {
        var index = start + 2
        var parameters: [UInt8] = []
        while index < bytes.count, (0x30...0x3F).contains(bytes[index]) {
            parameters.append(bytes[index])
            index += 1
        }
        while index < bytes.count, (0x20...0x2F).contains(bytes[index]) { index += 1 }
        guard index < bytes.count else { return final ? .key(.escape, 1) : .incomplete }
        let last = bytes[index]
        let length = index - start + 1
        guard (0x40...0x7E).contains(last) else { return .skip(length - 1) }  // malformed: drop the prefix
        if last == UInt8(ascii: "~") {
            let first = parameters.split(separator: UInt8(ascii: ";")).first.map { String(decoding: $0, as: UTF8.self) }
            switch first {
            case "1", "7": return .key(.home, length)
            case "3": return .key(.delete, length)
            case "4", "8": return .key(.end, length)
            case "5": return .key(.pageUp, length)
            case "6": return .key(.pageDown, length)
            default: return .skip(length)
            }
        }
        if let key = finalKey(last) { return .key(key, length) }
        return .skip(length)
    }

    private static func finalKey(_ byte: UInt8) -> Key? {
        switch byte {
        case UInt8(ascii: "A"): .up
        case UInt8(ascii: "B"): .down
        case UInt8(ascii: "C"): .right
        case UInt8(ascii: "D"): .left
        case UInt8(ascii: "H"): .home
        case UInt8(ascii: "F"): .end
        default: nil
        }
    }

    private static func decodeUTF8(_ bytes: [UInt8], at start: Int, final: Bool) -> Step {
        let lead = bytes[start]
        let length: Int
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF4: length = 4
        default: return .skip(1)
        }
        var index = start + 1
        while index < start + length {
            guard index < bytes.count else { return final ? .skip(bytes.count - start) : .incomplete }
            guard (0x80...0xBF).contains(bytes[index]) else { return .skip(index - start) }
            index += 1
        }
        let scalars = String(validating: bytes[start..<start + length], as: UTF8.self)
        guard let text = scalars, let character = text.first, text.count == 1 else { return .skip(length) }
        return .key(.character(character), length)
    }
}
