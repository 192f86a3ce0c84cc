/// A value that can be sent as one argument of a Redis command
/// (`JobStore.redisCommand`): `String`, `Substring`, `Int`, `Double` and
/// `[UInt8]` (binary-safe bytes) are.
public protocol RedisArgument: Sendable {
    /// Appends this value as one RESP bulk string (`$<length>\r\n<bytes>\r\n`) to `buffer`.
    func appendRedisArgument(to buffer: inout [UInt8])
}

extension String: RedisArgument {
    /// Its UTF-8 bytes.
    public func appendRedisArgument(to buffer: inout [UInt8]) {
        var copy = self
        copy.withUTF8 { RedisCommand.appendBulk($0, to: &buffer) }
    }
}

extension Substring: RedisArgument {
    /// Its UTF-8 bytes.
    public func appendRedisArgument(to buffer: inout [UInt8]) {
        String(self).appendRedisArgument(to: &buffer)
    }
}

extension Int: RedisArgument {
    /// Its decimal text.
    public func appendRedisArgument(to buffer: inout [UInt8]) {
        String(self).appendRedisArgument(to: &buffer)
    }
}

extension Double: RedisArgument {
    /// Its shortest round-trip decimal text; `+inf`/`-inf` for infinities.
    public func appendRedisArgument(to buffer: inout [UInt8]) {
        // Redis parses "inf"/"-inf" and plain decimals; Swift's description is round-trip exact.
        let text = isInfinite ? (self < 0 ? "-inf" : "+inf") : String(self)
        text.appendRedisArgument(to: &buffer)
    }
}

extension Array: RedisArgument where Element == UInt8 {
    /// The bytes as they are.
    public func appendRedisArgument(to buffer: inout [UInt8]) {
        withUnsafeBufferPointer { RedisCommand.appendBulk($0, to: &buffer) }
    }
}

/// One command, already encoded as RESP so that a batch of commands is written
/// with one copy and one `write(2)`.
package struct RedisCommand: Sendable, CustomStringConvertible {
    /// The encoded arguments (`$len\r\nbytes\r\n` each), without the `*N` header.
    private(set) var body: [UInt8]
    /// How many arguments `body` holds.
    package private(set) var count: Int
    /// The command name, for error messages.
    package let name: String

    package init(_ name: String, _ arguments: [any RedisArgument] = []) {
        self.name = name
        self.body = []
        self.body.reserveCapacity(32 + arguments.count * 24)
        self.count = 0
        append(name)
        for a in arguments { append(a) }
    }

    package init(_ name: String, _ arguments: any RedisArgument...) {
        self.init(name, arguments)
    }

    /// Appends one more argument.
    package mutating func append(_ argument: some RedisArgument) {
        argument.appendRedisArgument(to: &body)
        count += 1
    }

    package mutating func append(_ argument: any RedisArgument) {
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

    package var description: String { "\(name) (\(count - 1) args)" }
}
