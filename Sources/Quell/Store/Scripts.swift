/// The Lua scripts, one per state transition, each with `lib.lua` prepended.
/// The `.lua` files are embedded in the binary by SwiftPM (`.embedInCode`),
/// so a `quell` binary needs nothing beside it.
enum Scripts {
    private static let lib = String(decoding: PackageResources.lib_lua, as: UTF8.self)

    /// lib.lua, then the script's body as a function, then `flush()` of the
    /// deferred writes on every path out of the body. (Lua 5.1 allows a
    /// function 60 upvalues: a body may use at most that many of lib.lua's
    /// locals; Redis refuses to load a script that uses more.)
    private static func make(_ name: String, _ body: [UInt8]) -> RedisScript {
        RedisScript(name: name, source: lib + "\nlocal function main()\n" + String(decoding: body, as: UTF8.self)
                    + "\nend\nlocal result = main()\nflush()\nreturn result\n")
    }

    static let enqueue = make("enqueue", PackageResources.enqueue_lua)
    static let start = make("start", PackageResources.start_lua)
    static let progress = make("progress", PackageResources.progress_lua)
    static let heartbeat = make("heartbeat", PackageResources.heartbeat_lua)
    static let finish = make("finish", PackageResources.finish_lua)
    static let cancel = make("cancel", PackageResources.cancel_lua)
    static let confirmCancel = make("confirm_cancel", PackageResources.confirm_cancel_lua)
    static let retry = make("retry", PackageResources.retry_lua)
    static let reap = make("reap", PackageResources.reap_lua)
    static let cleanup = make("cleanup", PackageResources.cleanup_lua)
    static let forward = make("forward", PackageResources.forward_lua)
    static let stats = make("stats", PackageResources.stats_lua)
    static let expire = make("expire", PackageResources.expire_lua)
    /// Standalone (no lib.lua): run once per connect by `JobStore`'s connect hook.
    static let liveness = RedisScript(name: "liveness", source: String(decoding: PackageResources.liveness_lua, as: UTF8.self))

    static let all = [enqueue, start, progress, heartbeat, finish, cancel, confirmCancel, retry, reap, cleanup, forward, stats, expire]
}
