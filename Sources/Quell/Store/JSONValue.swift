/// Any JSON value. Read by `JSONReader` (strict RFC 8259, iterative, numbers kept
/// exactly as written); written by `JSONWriter`, compact and deterministic (object
/// keys sorted), so the same value always stores as the same bytes.
///
/// Equality is structural, with numbers compared by exact numeric value (see
/// `JSONNumber`): `.number(1)` equals the parsed `1.0`.
///
/// No Foundation and no other Quell type, so `scripts/fuzz-json` compiles this file
/// with `JSONNumber.swift` and `JSONReader.swift` alone; `JSONValue.parse`, which
/// reports a `QuellError`, lives in `JSONValue+Parse.swift`.
public enum JSONValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Through a `Decoder` (not used for request bodies, which `JSONReader` reads):
    /// integers come through exactly when the decoder gives them as `Int64` or
    /// `UInt64` (Foundation's `JSONDecoder` does), other numbers as `Double`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .number(JSONNumber(i)) }
        else if let u = try? c.decode(UInt64.self) { self = .number(JSONNumber(u)) }
        else if let d = try? c.decode(Double.self), d.isFinite { self = .number(JSONNumber(d)) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else if let o = try? c.decode([String: JSONValue].self) { self = .object(o) }
        else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a JSON value") }
    }

    /// Numbers go out as `Int64`/`UInt64` when they are integers in range (exact), else as `Double`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n):
            if let i = n.int64Value { try c.encode(i) }
            else if let u = n.uint64Value { try c.encode(u) }
            else { try c.encode(n.doubleValue) }
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// Compact JSON text.
    public var jsonString: String {
        var w = JSONWriter()
        w.value(self)
        return w.string
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var numberValue: JSONNumber? { if case .number(let n) = self { return n }; return nil }
    /// The nearest `Double` to a number (exact digits are in `numberValue?.text`).
    public var doubleValue: Double? { numberValue?.doubleValue }
    /// A number that is an integer in `Int`'s range, exactly (never rounded through a `Double`).
    public var intValue: Int? { numberValue?.intValue }
    public var int64Value: Int64? { numberValue?.int64Value }
    public var uint64Value: UInt64? { numberValue?.uint64Value }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { return o }; return nil }
}

/// Appends compact JSON to a byte buffer. Used for every JSON Quell writes
/// (job documents, progress, stats), so all consumers see the same shape.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    private var needsComma: [Bool] = [false]

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    public var string: String { String(decoding: bytes, as: UTF8.self) }

    private mutating func separator() {
        if needsComma[needsComma.count - 1] { bytes.append(UInt8(ascii: ",")) }
        needsComma[needsComma.count - 1] = true
    }

    public mutating func beginObject() { separator(); bytes.append(UInt8(ascii: "{")); needsComma.append(false) }
    public mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma.removeLast() }
    public mutating func beginArray() { separator(); bytes.append(UInt8(ascii: "[")); needsComma.append(false) }
    public mutating func endArray() { bytes.append(UInt8(ascii: "]")); needsComma.removeLast() }

    /// Writes `"name":` inside an object; the value call that follows adds no comma.
    public mutating func key(_ name: String) {
        separator()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma[needsComma.count - 1] = false
    }

    public mutating func null() { separator(); bytes.append(contentsOf: "null".utf8) }
    public mutating func bool(_ b: Bool) { separator(); bytes.append(contentsOf: (b ? "true" : "false").utf8) }
    public mutating func int(_ i: Int) { separator(); bytes.append(contentsOf: String(i).utf8) }
    public mutating func double(_ d: Double) {
        separator()
        if !d.isFinite { bytes.append(contentsOf: "null".utf8); return }
        if abs(d) < 1e15, let whole = Int(exactly: d) { bytes.append(contentsOf: String(whole).utf8) }
        else { bytes.append(contentsOf: String(d).utf8) }
    }
    /// Writes the number's literal text verbatim (every digit the client sent).
    public mutating func number(_ n: JSONNumber) { separator(); bytes.append(contentsOf: n.text.utf8) }
    public mutating func string(_ s: String) { separator(); appendQuoted(s) }
    public mutating func string(_ s: String?) { if let s { string(s) } else { null() } }

    /// Writes already-encoded JSON as a value (trusted input only).
    public mutating func raw(_ json: String) { separator(); bytes.append(contentsOf: json.utf8) }

    public mutating func value(_ v: JSONValue) {
        switch v {
        case .null: null()
        case .bool(let b): bool(b)
        case .number(let n): number(n)
        case .string(let s): string(s)
        case .array(let a):
            beginArray()
            for e in a { value(e) }
            endArray()
        case .object(let o):
            beginObject()
            for k in o.keys.sorted() {
                key(k)
                value(o[k]!)
            }
            endObject()
        }
    }

    private mutating func appendQuoted(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [92, 92])
            case 10: bytes.append(contentsOf: [92, 110])
            case 13: bytes.append(contentsOf: [92, 114])
            case 9: bytes.append(contentsOf: [92, 116])
            case 0..<32:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [92, 117, 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
