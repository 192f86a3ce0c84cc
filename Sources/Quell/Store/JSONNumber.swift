/// A JSON number kept exactly as written.
///
/// `text` is the literal (RFC 8259 grammar, e.g. `9007199254740993`, `-0.5e-3`),
/// and `JSONWriter` writes it back verbatim, so a number in job params reaches the
/// handler with every digit the client sent: a 64-bit id beyond 2^53 is not rounded
/// through a `Double` on the way.
///
/// **Equality is numeric**, by exact decimal value: `1`, `1.0`, `10e-1` and `0.1e1`
/// are equal (and hash alike); `-0` equals `0`; `9007199254740993` and
/// `9007199254740992` are *not* equal (they are as `Double`s). Use `text` to compare
/// spellings.
///
/// Self-contained (no Foundation, no other Quell type) so that `scripts/fuzz-json`
/// can compile it alone with `JSONValue.swift` and `JSONReader.swift`.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible,
    ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral
{
    /// The literal, exactly as parsed (or as made by the initializers).
    public let text: String

    /// Wraps a literal the reader has already checked (grammar and range).
    init(validated text: String) { self.text = text }

    /// The number `text` spells, or nil when it is not an RFC 8259 number
    /// (no leading `+`, no leading zeros, no `.5`, no `NaN`) or is out of the
    /// reader's range (infinite as a `Double`, exponent of 18 digits or more).
    public init?(text: String) {
        guard JSONReader.isNumberLiteral(text) else { return nil }
        self.text = text
    }

    public init(_ value: Int) { text = String(value) }
    public init(_ value: Int64) { text = String(value) }
    public init(_ value: UInt64) { text = String(value) }

    /// The shortest literal that reads back as `value` (`20` for 20.0, `45.2`, `1e-05`).
    /// A JSON number is finite: NaN and infinity are a programming error here
    /// (`JSONWriter.double` writes them as `null`).
    public init(_ value: Double) {
        precondition(value.isFinite, "JSON has no \(value)")
        if abs(value) < 1e15, let whole = Int(exactly: value) {
            text = String(whole)
        } else {
            text = value.description  // Swift's shortest round-trip form, valid JSON for finite values
        }
    }

    public init(integerLiteral value: Int) { self.init(value) }
    public init(floatLiteral value: Double) { self.init(value) }

    public var description: String { text }

    /// The nearest `Double` (correctly rounded; finite for every number the reader accepts).
    public var doubleValue: Double { Double(text) ?? .nan }

    /// The value as an `Int64` when it is an integer in range, exactly (`1e2` and `100.0`
    /// give 100; `1.5` and `9223372036854775808` give nil).
    public var int64Value: Int64? {
        guard let (negative, magnitude) = integerMagnitude else { return nil }
        if negative {
            if magnitude == UInt64(Int64.max) + 1 { return Int64.min }
            guard magnitude <= UInt64(Int64.max) else { return nil }
            return -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    /// The value as a `UInt64` when it is a non-negative integer in range, exactly.
    public var uint64Value: UInt64? {
        guard let (negative, magnitude) = integerMagnitude else { return nil }
        if negative && magnitude != 0 { return nil }
        return magnitude
    }

    /// True when the value is a whole number (`3`, `3.0`, `3e2`, `1e30`), whatever its size.
    public var isInteger: Bool { canonical.exponent >= 0 }

    /// The value as an `Int` when it is an integer in range, exactly.
    public var intValue: Int? { int64Value.map { Int($0) } }

    public static func == (a: JSONNumber, b: JSONNumber) -> Bool {
        a.text == b.text || a.canonical == b.canonical
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(canonical) }

    // MARK: - Exact decimal value

    /// The value as sign × digits × 10^exponent with no leading or trailing zeros
    /// in `digits` (empty for zero, which is never negative).
    struct Canonical: Hashable {
        var negative: Bool
        var digits: [UInt8]
        var exponent: Int
    }

    var canonical: Canonical {
        var negative = false
        var digits: [UInt8] = []
        var fractionDigits = 0
        var exponent = 0
        var exponentNegative = false
        var part = 0  // 0 integer, 1 fraction, 2 exponent
        for c in text.utf8 {
            switch c {
            case UInt8(ascii: "-"):
                if part == 2 { exponentNegative = true } else { negative = true }
            case UInt8(ascii: "+"):
                break
            case UInt8(ascii: "."):
                part = 1
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                part = 2
            default:
                if part == 2 {
                    // At most 17 significant digits (the reader's limit): no overflow.
                    exponent = exponent * 10 + Int(c &- 48)
                } else {
                    if digits.isEmpty && c == UInt8(ascii: "0") {
                        if part == 1 { fractionDigits += 1 }
                        continue  // leading zero
                    }
                    digits.append(c)
                    if part == 1 { fractionDigits += 1 }
                }
            }
        }
        if digits.isEmpty { return Canonical(negative: false, digits: [], exponent: 0) }
        var e = (exponentNegative ? -exponent : exponent) - fractionDigits
        while digits.last == UInt8(ascii: "0") {
            digits.removeLast()
            e += 1
        }
        return Canonical(negative: negative, digits: digits, exponent: e)
    }

    /// Sign and magnitude when the value is an integer of at most 20 digits that fits a `UInt64`.
    private var integerMagnitude: (Bool, UInt64)? {
        let c = canonical
        if c.digits.isEmpty { return (false, 0) }
        guard c.exponent >= 0, c.digits.count + c.exponent <= 20 else { return nil }
        var m: UInt64 = 0
        for d in c.digits {
            let (times, o1) = m.multipliedReportingOverflow(by: 10)
            let (plus, o2) = times.addingReportingOverflow(UInt64(d - 48))
            if o1 || o2 { return nil }
            m = plus
        }
        for _ in 0..<c.exponent {
            let (times, o) = m.multipliedReportingOverflow(by: 10)
            if o { return nil }
            m = times
        }
        return (c.negative, m)
    }
}
