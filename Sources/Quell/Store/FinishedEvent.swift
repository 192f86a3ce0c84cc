/// The event finish.lua appends for a job the worker finished, built from the
/// worker's copy of the job (packed as `start` returned it) so that Redis
/// need not read the whole job back: the copy with the fields a finish
/// changes put in (status, progress when given, version + 1, completed_at,
/// error), split around `heartbeat_at`, the one field written without a
/// version (by heartbeats), which finish.lua puts in from the hash.
///
/// finish.lua uses it only while the job is still `running` at `version`
/// with the worker's lease: then the hash and the copy agree on every other
/// field, and the event equals the one built from the hash (tested in
/// FinishFromCopyTests).
struct FinishedEvent {
    /// The version the copy is at, as the hash holds it.
    let version: String
    /// The packed fields before `heartbeat_at`, each followed by the separator.
    let head: String
    /// The packed fields after `heartbeat_at`, each preceded by the separator.
    let tail: String

    /// Positions in `Job.fieldNames` (and in a packed job).
    private static let status = 5, progress = 6, version = 9, heartbeatAt = 12, completedAt = 13, error = 18

    /// nil when `startedAs` is not a packed job (finish then reads the job).
    /// `progress` nil keeps the copy's; `completedAt` is the call's `now`
    /// argument and `error` the text stored, exactly as finish.lua writes them.
    init?(startedAs packed: String, status: String, progress: String?, completedAt: String, error: String) {
        // One pass over the bytes, field by field: no array of substrings
        // (this runs once per job a worker finishes).
        var packed = packed
        var head: [UInt8] = []
        var tail: [UInt8] = []
        head.reserveCapacity(packed.utf8.count + 32)
        tail.reserveCapacity(64 + error.utf8.count)
        var started: Int?
        let fieldCount = packed.withUTF8 { bytes -> Int in
            var field = 0, start = 0, i = 0
            while true {
                if i == bytes.count || bytes[i] == 0x1F {
                    if field == Job.fieldNames.count { return -1 }
                    let value = UnsafeBufferPointer(rebasing: bytes[start..<i])
                    if field > Self.heartbeatAt { tail.append(0x1F) }
                    switch field {
                    case Self.status: head.append(contentsOf: status.utf8)
                    case Self.progress:
                        if let progress { head.append(contentsOf: progress.utf8) } else { head.append(contentsOf: value) }
                    case Self.version:
                        guard let v = Int(String(decoding: value, as: UTF8.self)) else { return -1 }
                        started = v
                        head.append(contentsOf: String(v + 1).utf8)
                    case Self.heartbeatAt: break
                    case Self.completedAt: tail.append(contentsOf: completedAt.utf8)
                    case Self.error: tail.append(contentsOf: error.utf8)
                    case ..<Self.heartbeatAt: head.append(contentsOf: value)
                    default: tail.append(contentsOf: value)
                    }
                    if field < Self.heartbeatAt { head.append(0x1F) }
                    field += 1
                    if i == bytes.count { return field }
                    start = i + 1
                }
                i += 1
            }
        }
        guard fieldCount == Job.fieldNames.count, let started else { return nil }
        self.version = String(started)
        self.head = String(decoding: head, as: UTF8.self)
        self.tail = String(decoding: tail, as: UTF8.self)
    }
}
