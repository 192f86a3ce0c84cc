/// What is wrong with a JSON text, and where: `invalid JSON: <reason> at byte <offset>`.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, e.g. `duplicate member name "id"`.
    public var reason: String
    /// Where: the number of bytes before the offending one (0 is the first byte).
    public var offset: Int

    public init(_ reason: String, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String { "invalid JSON: \(reason) at byte \(offset)" }
}

/// A strict RFC 8259 reader: every request body and every params document goes
/// through it (`JSONValue.parse`).
///
/// Strict means it accepts exactly the RFC 8259 grammar in UTF-8 and rejects, with
/// the reason and the byte offset: duplicate member names (other parsers disagree on
/// which one wins, so a document means one thing here and another there), trailing
/// commas, leading zeros, `+1`, `.5`, `NaN`/`Infinity`, bare control characters in
/// strings, invalid escapes, invalid UTF-8 (overlong forms, encoded surrogates),
/// lone surrogate escapes such as `"\uD800"` (a Swift string cannot hold one),
/// whitespace other than space, tab, LF and CR, a byte order mark, and anything
/// after the value. Limits it adds (RFC 8259 §9 allows them): nesting at most
/// `maxDepth` (64) arrays and objects deep; numbers must be finite as a `Double`
/// (`1e400` is out of range) with an exponent of at most 17 digits.
///
/// No recursion: containers being read live on an explicit stack, so neither the
/// depth of a document nor its size can exhaust a thread's stack, and the time taken
/// is linear in the input's length. Numbers keep their literal text (`JSONNumber`).
/// The top-level value may be any JSON value; callers check for an object.
///
/// Self-contained (no Foundation, no other Quell type but `JSONValue` and
/// `JSONNumber`) so that `scripts/fuzz-json` can compile it alone.
public struct JSONReader: Sendable {
    public static let defaultMaxDepth = 64

    /// How many arrays and objects may be open at once; one more is an error.
    public var maxDepth: Int

    public init(maxDepth: Int = JSONReader.defaultMaxDepth) {
        precondition(maxDepth >= 0, "maxDepth must not be negative")
        self.maxDepth = maxDepth
    }

    /// Reads one JSON text: a value with optional whitespace around it and nothing else.
    public func read(_ bytes: some Collection<UInt8>) throws(JSONSyntaxError) -> JSONValue {
        let contiguous = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONSyntaxError) -> JSONValue in try read(buffer: buffer) }
        }
        if let contiguous { return try contiguous.get() }
        return try Array(bytes).withUnsafeBufferPointer { buffer throws(JSONSyntaxError) in try read(buffer: buffer) }
    }

    public func read(_ text: String) throws(JSONSyntaxError) -> JSONValue { try read(text.utf8) }

    public func read(buffer: UnsafeBufferPointer<UInt8>) throws(JSONSyntaxError) -> JSONValue {
        var scanner = JSONScanner(buffer, maxDepth: maxDepth)
        return try scanner.readDocument()
    }

    /// True when `text` is exactly one number the reader accepts (no whitespace around it).
    public static func isNumberLiteral(_ text: String) -> Bool {
        Array(text.utf8).withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer, maxDepth: 0)
            guard let first = buffer.first, first == UInt8(ascii: "-") || isDigit(first) else { return false }
            return (try? scanner.scanNumber()) != nil && scanner.atEnd
        }
    }
}

@inline(__always) private func isDigit(_ c: UInt8) -> Bool { c &- 48 < 10 }

/// One container being read: its elements so far, and for an object the name
/// of the member whose value comes next.
private struct Frame {
    var isObject: Bool
    var items: [JSONValue] = []
    var members: [String: JSONValue] = [:]
    var key: String = ""
}

/// The reader's state over one buffer.
struct JSONScanner {
    private let bytes: UnsafeBufferPointer<UInt8>
    private let maxDepth: Int
    private var i = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    var atEnd: Bool { i == bytes.count }

    // MARK: - Structure

    mutating func readDocument() throws(JSONSyntaxError) -> JSONValue {
        let n = bytes.count
        if n >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            throw JSONSyntaxError("a byte order mark is not allowed", at: 0)
        }
        var stack: [Frame] = []
        var commaAt: Int? = nil  // where the ',' before the expected value is, if any
        readValue: while true {
            skipWhitespace()
            guard i < n else { throw endOfInput(stack) }
            let c = bytes[i]
            var value: JSONValue
            switch c {
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                guard stack.count < maxDepth else { throw JSONSyntaxError("nesting deeper than \(maxDepth)", at: i) }
                i += 1
                skipWhitespace()
                if c == UInt8(ascii: "[") {
                    if i < n && bytes[i] == UInt8(ascii: "]") {
                        i += 1
                        value = .array([])
                    } else {
                        stack.append(Frame(isObject: false))
                        commaAt = nil
                        continue readValue
                    }
                } else {
                    if i < n && bytes[i] == UInt8(ascii: "}") {
                        i += 1
                        value = .object([:])
                    } else {
                        let (key, _) = try readMemberName(commaAt: nil, stack)
                        stack.append(Frame(isObject: true, key: key))
                        commaAt = nil
                        continue readValue
                    }
                }
            case UInt8(ascii: "\""):
                value = .string(try scanString())
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                value = .number(try scanNumber())
            case UInt8(ascii: "t"):
                try expectLiteral("true")
                value = .bool(true)
            case UInt8(ascii: "f"):
                try expectLiteral("false")
                value = .bool(false)
            case UInt8(ascii: "n"):
                try expectLiteral("null")
                value = .null
            default:
                throw notAValue(c, commaAt: commaAt)
            }

            // A complete value: add it to the open container, closing containers as they end.
            while let top = stack.indices.last {
                if stack[top].isObject {
                    let key = stack[top].key
                    stack[top].members[key] = value
                    skipWhitespace()
                    guard i < n else { throw endOfInput(stack) }
                    if bytes[i] == UInt8(ascii: ",") {
                        let comma = i
                        i += 1
                        skipWhitespace()
                        let (next, at) = try readMemberName(commaAt: comma, stack)
                        if stack[top].members[next] != nil {
                            throw JSONSyntaxError("duplicate member name \(quoted(next))", at: at)
                        }
                        stack[top].key = next
                        commaAt = nil
                        continue readValue
                    }
                    guard bytes[i] == UInt8(ascii: "}") else {
                        throw JSONSyntaxError("expected ',' or '}' after an object member, got \(describe(bytes[i]))", at: i)
                    }
                    i += 1
                    value = .object(stack.removeLast().members)
                } else {
                    stack[top].items.append(value)
                    skipWhitespace()
                    guard i < n else { throw endOfInput(stack) }
                    if bytes[i] == UInt8(ascii: ",") {
                        commaAt = i
                        i += 1
                        continue readValue
                    }
                    guard bytes[i] == UInt8(ascii: "]") else {
                        throw JSONSyntaxError("expected ',' or ']' after an array element, got \(describe(bytes[i]))", at: i)
                    }
                    i += 1
                    value = .array(stack.removeLast().items)
                }
            }
            skipWhitespace()
            guard i == n else { throw JSONSyntaxError("unexpected \(describe(bytes[i])) after the JSON value", at: i) }
            return value
        }
    }

    /// `"name"` and the `:` after it (whitespace skipped before the name already).
    /// Returns the name and where it starts.
    private mutating func readMemberName(commaAt: Int?, _ stack: [Frame]) throws(JSONSyntaxError) -> (String, Int) {
        let n = bytes.count
        guard i < n else { throw endOfInput(stack) }
        guard bytes[i] == UInt8(ascii: "\"") else {
            if let commaAt, bytes[i] == UInt8(ascii: "}") {
                throw JSONSyntaxError("trailing comma before '}'", at: commaAt)
            }
            throw JSONSyntaxError("expected a member name (a string in double quotes), got \(describe(bytes[i]))", at: i)
        }
        let at = i
        let name = try scanString()
        skipWhitespace()
        guard i < n else { throw endOfInput(stack) }
        guard bytes[i] == UInt8(ascii: ":") else {
            throw JSONSyntaxError("expected ':' after member name \(quoted(name)), got \(describe(bytes[i]))", at: i)
        }
        i += 1
        return (name, at)
    }

    @inline(__always) private mutating func skipWhitespace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x0A, 0x0D, 0x09: i += 1
            default: return
            }
        }
    }

    private mutating func expectLiteral(_ word: StaticString) throws(JSONSyntaxError) {
        let count = word.utf8CodeUnitCount
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
        for k in 0..<count where i + k >= bytes.count || bytes[i + k] != expected[k] {
            throw JSONSyntaxError("invalid literal (expected '\(word)')", at: i)
        }
        i += count
    }

    private func endOfInput(_ stack: [Frame]) -> JSONSyntaxError {
        guard let top = stack.last else {
            return JSONSyntaxError(bytes.isEmpty ? "empty input (expected a JSON value)" : "unexpected end of input (expected a value)", at: i)
        }
        return JSONSyntaxError("unexpected end of input (an \(top.isObject ? "object" : "array") is not closed)", at: i)
    }

    private func notAValue(_ c: UInt8, commaAt: Int?) -> JSONSyntaxError {
        if let commaAt, c == UInt8(ascii: "]") { return JSONSyntaxError("trailing comma before ']'", at: commaAt) }
        let hint: String
        switch c {
        case UInt8(ascii: "N"), UInt8(ascii: "I"): hint = " (NaN and Infinity are not JSON)"
        case UInt8(ascii: "+"): hint = " (a number cannot start with '+')"
        case UInt8(ascii: "."): hint = " (a number needs a digit before '.')"
        case UInt8(ascii: "'"): hint = " (strings take double quotes)"
        case UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: ","), UInt8(ascii: ":"): hint = ""
        case 0x0B, 0x0C: hint = " (only space, tab, LF and CR are JSON whitespace)"
        default: hint = ""
        }
        return JSONSyntaxError("expected a value, got \(describe(c))\(hint)", at: i)
    }

    // MARK: - Numbers

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, then the range check.
    mutating func scanNumber() throws(JSONSyntaxError) -> JSONNumber {
        let n = bytes.count
        let start = i
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < n, isDigit(bytes[i]) else {
            throw JSONSyntaxError("expected a digit after '-'", at: i)
        }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            if i < n, isDigit(bytes[i]) { throw JSONSyntaxError("leading zero in a number", at: start) }
        } else {
            while i < n, isDigit(bytes[i]) { i += 1 }
        }
        var plainInteger = true
        if i < n, bytes[i] == UInt8(ascii: ".") {
            plainInteger = false
            i += 1
            guard i < n, isDigit(bytes[i]) else { throw JSONSyntaxError("expected a digit after '.'", at: i) }
            while i < n, isDigit(bytes[i]) { i += 1 }
        }
        if i < n, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            plainInteger = false
            i += 1
            if i < n, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < n, isDigit(bytes[i]) else { throw JSONSyntaxError("expected a digit in the exponent", at: i) }
            let digitsStart = i
            while i < n, bytes[i] == UInt8(ascii: "0") { i += 1 }
            let significant = i
            while i < n, isDigit(bytes[i]) { i += 1 }
            if i - significant > 17 { throw JSONSyntaxError("number out of range (exponent of more than 17 digits)", at: digitsStart) }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        // A plain integer of up to 300 digits is below Double.greatestFiniteMagnitude (~1.8e308).
        if !(plainInteger && i - start <= 300), !(Double(text)?.isFinite ?? false) {
            throw JSONSyntaxError("number out of range (beyond ±1.8e308, the largest double)", at: start)
        }
        return JSONNumber(validated: text)
    }

    // MARK: - Strings

    /// A string from its opening quote; the fast path copies the bytes once.
    private mutating func scanString() throws(JSONSyntaxError) -> String {
        let start = i
        i += 1
        let contentStart = i
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[contentStart..<i]), as: UTF8.self)
                i += 1
                return s
            }
            if c == UInt8(ascii: "\\") { return try scanEscapedString(start: start, contentStart: contentStart) }
            if c < 0x20 { throw controlCharacter(c) }
            if c < 0x80 { i += 1 } else { try skipUTF8Sequence() }
        }
        throw JSONSyntaxError("unterminated string (it starts at byte \(start))", at: i)
    }

    /// The rest of a string that has escapes, decoded into a byte buffer.
    private mutating func scanEscapedString(start: Int, contentStart: Int) throws(JSONSyntaxError) -> String {
        let n = bytes.count
        var out: [UInt8] = []
        out.reserveCapacity(i - contentStart + 16)
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[contentStart..<i]))
        while i < n {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "\""):
                i += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard i + 1 < n else { throw JSONSyntaxError("unterminated string (it starts at byte \(start))", at: n) }
                let e = bytes[i + 1]
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    appendUTF8(try scanUnicodeEscape(), to: &out)
                    continue  // scanUnicodeEscape moved past the escape(s)
                default:
                    throw JSONSyntaxError("invalid escape '\\\(printable(e))' in a string", at: i)
                }
                i += 2
            case 0..<0x20:
                throw controlCharacter(c)
            case 0x20..<0x80:
                out.append(c)
                i += 1
            default:
                let from = i
                try skipUTF8Sequence()
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[from..<i]))
            }
        }
        throw JSONSyntaxError("unterminated string (it starts at byte \(start))", at: n)
    }

    /// `\uXXXX`, or a surrogate pair `\uD83D\uDE00`, at `i`; moves past it.
    private mutating func scanUnicodeEscape() throws(JSONSyntaxError) -> UInt32 {
        let at = i
        guard let unit = hex4(at: i + 2) else {
            throw JSONSyntaxError("invalid \\u escape (expected 4 hex digits)", at: at)
        }
        switch unit {
        case 0xD800...0xDBFF:
            guard i + 7 < bytes.count, bytes[i + 6] == UInt8(ascii: "\\"), bytes[i + 7] == UInt8(ascii: "u"),
                  let low = hex4(at: i + 8), (0xDC00...0xDFFF).contains(low)
            else {
                throw JSONSyntaxError("lone surrogate \(escapeText(at: at)) (a high surrogate needs a \\uDC00-\\uDFFF escape after it; a Swift string cannot hold one alone)", at: at)
            }
            i += 12
            return 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
        case 0xDC00...0xDFFF:
            throw JSONSyntaxError("lone surrogate \(escapeText(at: at)) (a low surrogate needs a \\uD800-\\uDBFF escape before it; a Swift string cannot hold one alone)", at: at)
        default:
            i += 6
            return unit
        }
    }

    private func hex4(at k: Int) -> UInt32? {
        guard k + 4 <= bytes.count else { return nil }
        var v: UInt32 = 0
        for j in k..<(k + 4) {
            let c = bytes[j]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - 48
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - 87
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - 55
            default: return nil
            }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    private func escapeText(at k: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[k..<min(k + 6, bytes.count)]), as: UTF8.self)
    }

    private func appendUTF8(_ v: UInt32, to out: inout [UInt8]) {
        switch v {
        case 0..<0x80:
            out.append(UInt8(v))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | v >> 6))
            out.append(UInt8(0x80 | v & 0x3F))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | v >> 12))
            out.append(UInt8(0x80 | v >> 6 & 0x3F))
            out.append(UInt8(0x80 | v & 0x3F))
        default:
            out.append(UInt8(0xF0 | v >> 18))
            out.append(UInt8(0x80 | v >> 12 & 0x3F))
            out.append(UInt8(0x80 | v >> 6 & 0x3F))
            out.append(UInt8(0x80 | v & 0x3F))
        }
    }

    /// Moves past one well-formed UTF-8 sequence of 2-4 bytes at `i` (Unicode
    /// Table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF).
    private mutating func skipUTF8Sequence() throws(JSONSyntaxError) {
        let lead = bytes[i]
        var lo: UInt8 = 0x80
        var hi: UInt8 = 0xBF
        let continuation: Int
        switch lead {
        case 0xC2...0xDF: continuation = 1
        case 0xE0: continuation = 2; lo = 0xA0
        case 0xE1...0xEC, 0xEE, 0xEF: continuation = 2
        case 0xED: continuation = 2; hi = 0x9F
        case 0xF0: continuation = 3; lo = 0x90
        case 0xF1...0xF3: continuation = 3
        case 0xF4: continuation = 3; hi = 0x8F
        default: throw invalidUTF8()
        }
        guard i + continuation < bytes.count else { throw invalidUTF8() }
        let second = bytes[i + 1]
        guard second >= lo && second <= hi else { throw invalidUTF8() }
        var k = 2
        while k <= continuation {
            guard bytes[i + k] & 0xC0 == 0x80 else { throw invalidUTF8() }
            k += 1
        }
        i += continuation + 1
    }

    private func invalidUTF8() -> JSONSyntaxError {
        JSONSyntaxError("invalid UTF-8 (a sequence starting with byte \(hexByte(bytes[i])))", at: i)
    }

    private func controlCharacter(_ c: UInt8) -> JSONSyntaxError {
        JSONSyntaxError("control character \(hexByte(c)) in a string (write it as an escape, e.g. \\n or \\u00\(hexDigits(c)))", at: i)
    }

    // MARK: - Messages

    private func quoted(_ s: String) -> String {
        var w = JSONWriter()
        w.string(s.count > 40 ? String(s.prefix(40)) + "…" : s)
        return w.string
    }

    private func describe(_ c: UInt8) -> String {
        c >= 0x21 && c < 0x7F ? "'\(printable(c))'" : "byte \(hexByte(c))"
    }

    private func printable(_ c: UInt8) -> String {
        c >= 0x21 && c < 0x7F ? String(UnicodeScalar(c)) : hexByte(c)
    }
}

private func hexDigits(_ c: UInt8) -> String {
    let digits = Array("0123456789ABCDEF".utf8)
    return String(decoding: [digits[Int(c >> 4)], digits[Int(c & 15)]], as: UTF8.self)
}

private func hexByte(_ c: UInt8) -> String { "0x" + hexDigits(c) }
