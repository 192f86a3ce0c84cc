/// The Lua transitions, one script file per state transition, loaded into
/// Redis as one Functions library: `lib.lua` at its top (run once, at
/// `FUNCTION LOAD`), then each script's body as a registered function that
/// starts with `begin` (the per-call values) and ends with `flush()` of the
/// deferred writes, on every path out of the body. The `.lua` files are
/// embedded in the binary by SwiftPM (`.embedInCode`), so a `quell` binary
/// needs nothing beside it.
///
/// Library and function names carry a hash of the code, so processes of two
/// Quell versions on one Redis (a rolling upgrade) each call their own.
/// (Lua 5.1 allows a function 60 upvalues: a body may use at most that many
/// of lib.lua's locals; Redis refuses to load a library that uses more.)
enum Scripts {
    private static let bodies: [(name: String, source: [UInt8])] = [
        ("enqueue", PackageResources.enqueue_lua),
        ("start", PackageResources.start_lua),
        ("progress", PackageResources.progress_lua),
        ("heartbeat", PackageResources.heartbeat_lua),
        ("finish", PackageResources.finish_lua),
        // After start and finish: its body calls theirs.
        ("finish_start", PackageResources.finish_start_lua),
        ("cancel", PackageResources.cancel_lua),
        ("confirm_cancel", PackageResources.confirm_cancel_lua),
        ("pause", PackageResources.pause_lua),
        ("resume", PackageResources.resume_lua),
        ("confirm_pause", PackageResources.confirm_pause_lua),
        ("abandon", PackageResources.abandon_lua),
        ("retry", PackageResources.retry_lua),
        ("reap", PackageResources.reap_lua),
        ("cleanup", PackageResources.cleanup_lua),
        ("forward", PackageResources.forward_lua),
        ("stats", PackageResources.stats_lua),
        ("expire", PackageResources.expire_lua),
    ]

    /// `quell_<12 hex digits of SHA-1 over lib.lua and every body>`.
    static let version: String = {
        var all = String(decoding: PackageResources.lib_lua, as: UTF8.self)
        for b in bodies { all += "\u{0}" + b.name + "\u{0}" + String(decoding: b.source, as: UTF8.self) }
        return "quell_" + SHA1.hex(all).prefix(12)
    }()

    static let library: RedisFunctionLibrary = {
        var source = "#!lua name=\(version)\n" + String(decoding: PackageResources.lib_lua, as: UTF8.self)
        for b in bodies {
            source += """

                local function body_\(b.name)(KEYS, ARGV)
                \(String(decoding: b.source, as: UTF8.self))
                end
                redis.register_function('\(version)_\(b.name)', function(keys, args)
                  begin(keys, args)
                  local result = body_\(b.name)(keys, args)
                  flush()
                  return result
                end)

                """
        }
        return RedisFunctionLibrary(name: version, source: source)
    }()

    private static func function(_ name: String) -> RedisFunction {
        precondition(bodies.contains { $0.name == name }, "no script \(name).lua")
        return RedisFunction(name: "\(version)_\(name)", library: library)
    }

    static let enqueue = function("enqueue")
    static let start = function("start")
    static let progress = function("progress")
    static let heartbeat = function("heartbeat")
    static let finish = function("finish")
    static let finishStart = function("finish_start")
    static let cancel = function("cancel")
    static let confirmCancel = function("confirm_cancel")
    static let pause = function("pause")
    static let resume = function("resume")
    static let confirmPause = function("confirm_pause")
    static let abandon = function("abandon")
    static let retry = function("retry")
    static let reap = function("reap")
    static let cleanup = function("cleanup")
    static let forward = function("forward")
    static let stats = function("stats")
    static let expire = function("expire")
    /// A plain script (no library): run once per connect by `JobStore`'s
    /// connect hook, before any function is called on that connection.
    static let liveness = RedisScript(name: "liveness", source: String(decoding: PackageResources.liveness_lua, as: UTF8.self))
}
