import FoundationEssentials
import Synchronization

/// Job ids: 26 characters of Crockford base32, a 48-bit millisecond time
/// followed by 80 random bits (the ULID layout). Ids sort by creation time as
/// plain strings, which the status indexes rely on (ZRANGEBYLEX), and within
/// one millisecond ids made by one process still increase.
public enum JobID {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
    private struct Last { var ms: UInt64 = 0; var high: UInt16 = 0; var low: UInt64 = 0 }
    private static let last = Mutex(Last())

    /// A new id for a job created at `date`.
    public static func make(at date: Date = Date()) -> String {
        let ms = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        let (time, high, low) = last.withLock { l -> (UInt64, UInt16, UInt64) in
            if ms <= l.ms {
                // Same (or earlier) millisecond: increment the random part.
                l.low &+= 1
                if l.low == 0 { l.high &+= 1 }
            } else {
                l.ms = ms
                l.high = UInt16.random(in: 0...UInt16.max)
                l.low = UInt64.random(in: 0...UInt64.max)
            }
            return (l.ms, l.high, l.low)
        }
        var out = [UInt8](repeating: 0, count: 26)
        var t = time
        for i in stride(from: 9, through: 0, by: -1) {
            out[i] = alphabet[Int(t & 31)]
            t >>= 5
        }
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

    /// True for strings shaped like an id (safe to put in a key name).
    public static func isValid(_ id: String) -> Bool {
        let u = id.utf8
        return u.count == 26 && u.allSatisfy { alphabet.contains($0) }
    }
}
