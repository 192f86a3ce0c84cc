/// A value that can be sent as one argument of a Redis command.
public protocol RedisArgument: Sendable {
    func appendRedisArgument(to buffer: inout [UInt8])
}

extension String: RedisArgument {
    public func appendRedisArgument(to buffer: inout [UInt8]) {
        var copy = self
        copy.withUTF8 { RedisCommand.appendBulk($0, to: &buffer) }
    }
}

extension Substring: RedisArgument {
    public func appendRedisArgument(to buffer: inout [UInt8]) {
        String(self).appendRedisArgument(to: &buffer)
    }
}

extension Int: RedisArgument {
    public func appendRedisArgument(to buffer: inout [UInt8]) {
        String(self).appendRedisArgument(to: &buffer)
    }
}

extension Double: RedisArgument {
    public func appendRedisArgument(to buffer: inout [UInt8]) {
        // Redis parses "inf"/"-inf" and plain decimals; Swift's description is round-trip exact.
        let text = isInfinite ? (self < 0 ? "-inf" : "+inf") : String(self)
        text.appendRedisArgument(to: &buffer)
    }
}

extension Array: RedisArgument where Element == UInt8 {
    public func appendRedisArgument(to buffer: inout [UInt8]) {
        withUnsafeBufferPointer { RedisCommand.appendBulk($0, to: &buffer) }
    }
}

/// One command, already encoded as RESP so that a batch of commands is written
/// with one copy and one `write(2)`.
public struct RedisCommand: Sendable, CustomStringConvertible {
    /// The encoded arguments (`$len\r\nbytes\r\n` each), without the `*N` header.
    private(set) var body: [UInt8]
    /// How many arguments `body` holds.
    public private(set) var count: Int
    /// The command name, for error messages.
    public let name: String

    public init(_ name: String, _ arguments: [any RedisArgument] = []) {
        self.name = name
        self.body = []
        self.body.reserveCapacity(32 + arguments.count * 24)
        self.count = 0
        append(name)
        for a in arguments { append(a) }
    }

    public init(_ name: String, _ arguments: any RedisArgument...) {
        self.init(name, arguments)
    }

    /// Appends one more argument.
    public mutating func append(_ argument: some RedisArgument) {
        argument.appendRedisArgument(to: &body)
        count += 1
    }

    public mutating func append(_ argument: any RedisArgument) {
        argument.appendRedisArgument(to: &body)
        count += 1
    }

    /// Writes the full RESP encoding (`*N\r\n` + arguments) to `buffer`.
    func encode(into buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "*"))
        RedisCommand.appendDecimal(count, to: &buffer)
        buffer.append(13); buffer.append(10)
        buffer.append(contentsOf: body)
    }

    static func appendBulk(_ bytes: UnsafeBufferPointer<UInt8>, to buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "$"))
        appendDecimal(bytes.count, to: &buffer)
        buffer.append(13); buffer.append(10)
        buffer.append(contentsOf: bytes)
        buffer.append(13); buffer.append(10)
    }

    static func appendDecimal(_ value: Int, to buffer: inout [UInt8]) {
        if value < 10 && value >= 0 {
            buffer.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        var v = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[n] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                n += 1
            } while v > 0
            if value < 0 { buffer.append(UInt8(ascii: "-")) }
            while n > 0 { n -= 1; buffer.append(d[n]) }
        }
    }

    public var description: String { "\(name) (\(count - 1) args)" }
}
