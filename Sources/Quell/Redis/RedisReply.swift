/// One reply from Redis (RESP2). Bulk strings are decoded as UTF-8: Quell stores
/// only text (ids, JSON, numbers), and small Swift strings need no allocation.
public enum RedisReply: Sendable, Equatable {
    /// A bulk string (`GET`, `HGET`, …).
    case bulk(String)
    /// A status reply (`OK`, `PONG`).
    case status(String)
    /// An integer reply (`INCR`, `SADD`, …).
    case integer(Int)
    /// An array reply (`SMEMBERS`, `HGETALL`, `XRANGE`, …), possibly nested.
    case array([RedisReply])
    /// A nil bulk or nil array (a missing key, a wait that ended with nothing).
    case null
    /// An error reply, as an element of an array reply (top-level error
    /// replies throw instead).
    case error(String)

    /// The text of a bulk or status reply, or an integer in decimal.
    public var string: String? {
        switch self {
        case .bulk(let s), .status(let s): return s
        case .integer(let i): return String(i)
        default: return nil
        }
    }

    /// An integer reply, or a bulk string that holds a decimal integer.
    public var int: Int? {
        switch self {
        case .integer(let i): return i
        case .bulk(let s): return Int(s)
        default: return nil
        }
    }

    /// A floating-point value held in an integer or bulk reply (ZSCORE, INCRBYFLOAT).
    public var double: Double? {
        switch self {
        case .integer(let i): return Double(i)
        case .bulk(let s): return Double(s)
        default: return nil
        }
    }

    /// The elements of an array reply.
    public var array: [RedisReply]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// True for a nil reply.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The reply itself, or `RedisError.server` when it is an error reply.
    @discardableResult
    package func orThrow() throws(RedisError) -> RedisReply {
        if case .error(let message) = self { throw .server(message) }
        return self
    }

    /// The elements of an array reply, or a protocol error naming what was expected.
    package func expectArray(_ what: @autoclosure () -> String = "array") throws(RedisError) -> [RedisReply] {
        switch self {
        case .array(let a): return a
        case .error(let m): throw .server(m)
        default: throw .protocolError("expected \(what()), got \(self)")
        }
    }

    /// An integer reply, or a protocol error naming what was expected.
    package func expectInt(_ what: @autoclosure () -> String = "integer") throws(RedisError) -> Int {
        if case .error(let m) = self { throw .server(m) }
        guard let i = int else { throw .protocolError("expected \(what()), got \(self)") }
        return i
    }

    /// A string reply (bulk or status), or a protocol error naming what was expected.
    package func expectString(_ what: @autoclosure () -> String = "string") throws(RedisError) -> String {
        if case .error(let m) = self { throw .server(m) }
        guard let s = string else { throw .protocolError("expected \(what()), got \(self)") }
        return s
    }

    /// A flat array of alternating names and values (HGETALL, XRANGE entries) as a dictionary.
    public func pairs() throws(RedisError) -> [String: String] {
        let items = try expectArray("field/value array")
        guard items.count % 2 == 0 else { throw .protocolError("odd field/value array of \(items.count)") }
        var out: [String: String] = [:]
        out.reserveCapacity(items.count / 2)
        var i = 0
        while i < items.count {
            guard let k = items[i].string, let v = items[i + 1].string else {
                throw .protocolError("non-string in field/value array")
            }
            out[k] = v
            i += 2
        }
        return out
    }
}

extension RedisReply: CustomStringConvertible {
    /// The reply as `redis-cli` prints it (long strings cut at 80 characters).
    public var description: String {
        switch self {
        case .bulk(let s): return "\"\(s.count > 80 ? String(s.prefix(80)) + "…" : s)\""
        case .status(let s): return s
        case .integer(let i): return "(integer) \(i)"
        case .array(let a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        case .null: return "(nil)"
        case .error(let e): return "(error) \(e)"
        }
    }
}
