import FoundationEssentials
import Synchronization

/// Job ids: 26 characters of Crockford base32, a 48-bit millisecond time
/// followed by 80 random bits (the ULID layout). Ids sort by creation time as
/// plain strings, which the status indexes rely on (ZRANGEBYLEX), and ids made
/// by one process in the same millisecond still increase.
///
/// The monotonic state is kept per millisecond (a few recent ones), not as
/// one "last id": an id always carries its own time, even when clocks that
/// disagree (tests' manual clocks, a clock stepped back) make ids in one
/// process. A single "last" would stamp later ids with the furthest time seen.
public enum JobID {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
    private struct Random { var high: UInt16; var low: UInt64 }
    private static let recent = Mutex<[UInt64: Random]>([:])

    /// A new id for a job created at `date`.
    public static func make(at date: Date = Date()) -> String {
        let time = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        let (high, low) = recent.withLock { r -> (UInt16, UInt64) in
            if var last = r[time] {
                // Same millisecond: increment the random part.
                last.low &+= 1
                if last.low == 0 { last.high &+= 1 }
                r[time] = last
                return (last.high, last.low)
            }
            if r.count >= 256 { r.removeAll(keepingCapacity: true) }
            let fresh = Random(high: UInt16.random(in: 0...UInt16.max), low: UInt64.random(in: 0...UInt64.max))
            r[time] = fresh
            return (fresh.high, fresh.low)
        }
        var out = [UInt8](repeating: 0, count: 26)
        writeTime(time, into: &out)
        // 80 random bits = 16 characters. The 80-bit number is high·2⁶⁴ + low:
        // its top 20 bits (4 chars) are high<<4 | low>>60, the rest 60 bits (12 chars).
        var lo = low & ((1 << 60) - 1)
        for i in stride(from: 25, through: 14, by: -1) {
            out[i] = alphabet[Int(lo & 31)]
            lo >>= 5
        }
        var top = (UInt32(high) << 4) | UInt32(low >> 60)
        for i in stride(from: 13, through: 10, by: -1) {
            out[i] = alphabet[Int(top & 31)]
            top >>= 5
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The 10-character time part of an id made at `date`: every id made
    /// earlier sorts before it.
    package static func timePrefix(_ date: Date) -> String {
        encodeTime(UInt64(max(0, date.timeIntervalSince1970 * 1000)))
    }

    private static func encodeTime(_ ms: UInt64) -> String {
        var out = [UInt8](repeating: 0, count: 10)
        writeTime(ms, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The 48-bit millisecond time as the first 10 characters of `out`.
    private static func writeTime(_ ms: UInt64, into out: inout [UInt8]) {
        var t = ms
        for i in stride(from: 9, through: 0, by: -1) {
            out[i] = alphabet[Int(t & 31)]
            t >>= 5
        }
    }

    /// True for strings shaped like an id (safe to put in a key name).
    public static func isValid(_ id: String) -> Bool {
        let u = id.utf8
        return u.count == 26 && u.allSatisfy { alphabet.contains($0) }
    }
}
