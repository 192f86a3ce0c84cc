/// The event finish.lua appends for a job the worker finished, built from the
/// worker's copy of the job (packed as `start` returned it) so that Redis
/// need not read the whole job back: the copy with the fields a finish
/// changes put in (status, progress when given, version + 1, completed_at,
/// error), split around `heartbeat_at`, the one field written without a
/// version (by heartbeats), which finish.lua puts in from the hash.
///
/// finish.lua uses it only while the job is still at `version` (every change
/// but a heartbeat bumps it, so the job is still this run, `running`, with
/// the worker's lease): then the hash and the copy agree on every other
/// field, and the event equals the one built from the hash (tested in
/// FinishFromCopyTests).
struct FinishedEvent {
    /// The version the copy is at, as the hash holds it.
    let version: String
    /// The packed fields before `heartbeat_at`, each followed by the separator.
    let head: String
    /// The packed fields after `heartbeat_at`, each preceded by the separator.
    let tail: String
    /// Whether the copy has an error (a retried job's last one): finishing
    /// without an error must then clear it, else it need write none.
    let copyHasError: Bool
    /// The copy's tenant and dedupe key ("" for none): they never change, so
    /// finish.lua need not read them.
    let tenant: String
    let key: String

    /// nil when `startedAs` is not a packed job (finish then reads the job).
    /// `progress` nil keeps the copy's; `completedAt` is the call's `now`
    /// argument and `error` the text stored, exactly as finish.lua writes them.
    init?(startedAs packed: String, status: String, progress: String?, completedAt: String, error: String) {
        typealias P = Job.Position
        var packed = packed
        let parts = packed.withUTF8 { bytes -> (version: String, head: [UInt8], tail: [UInt8], hasError: Bool, tenant: String, key: String)? in
            let (bounds, n) = Job.packedFieldBounds(bytes)
            guard n == Job.fieldNames.count else { return nil }
            func value(_ i: Int) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: bytes[bounds[i] ..< bounds[i + 1] - 1]) }
            guard let started = Int(String(decoding: value(P.version), as: UTF8.self)) else { return nil }
            var head: [UInt8] = []
            var tail: [UInt8] = []
            head.reserveCapacity(bytes.count + 32)
            tail.reserveCapacity(64 + error.utf8.count)
            for i in 0..<n where i != P.heartbeatAt {
                let replaced: String? = switch i {
                case P.status: status
                case P.progress: progress
                case P.version: String(started + 1)
                case P.completedAt: completedAt
                case P.error: error
                default: nil
                }
                if i > P.heartbeatAt { tail.append(0x1F) }
                if let replaced {
                    if i < P.heartbeatAt { head.append(contentsOf: replaced.utf8) } else { tail.append(contentsOf: replaced.utf8) }
                } else {
                    if i < P.heartbeatAt { head.append(contentsOf: value(i)) } else { tail.append(contentsOf: value(i)) }
                }
                if i < P.heartbeatAt { head.append(0x1F) }
            }
            return (String(started), head, tail, !value(P.error).isEmpty,
                    String(decoding: value(P.tenant), as: UTF8.self), String(decoding: value(P.key), as: UTF8.self))
        }
        guard let parts else { return nil }
        version = parts.version
        copyHasError = parts.hasError
        tenant = parts.tenant
        key = parts.key
        head = String(decoding: parts.head, as: UTF8.self)
        tail = String(decoding: parts.tail, as: UTF8.self)
    }
}
