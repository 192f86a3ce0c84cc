/// Redis commands of the application's own, on the store's connection.
///
/// A handler that writes its results to Redis (what it synced, a log) can do
/// so through the store instead of a client of its own:
///
///     let key = context.store.keys.app("synced:\(context.job.tenant)")
///     try await context.store.redisCommand("SADD", key, "item-1", "item-2")
///
/// Commands share the store's pipelining connection, so concurrent handlers
/// share its round trips. Use key names from `Keys.app(_:)`: every name
/// outside `{prefix}:app:` belongs to Quell, whose Lua scripts alone change
/// them (writing one breaks the invariants of DESIGN.md).
extension JobStore {
    /// Runs one Redis command on the store's shared connection and returns
    /// its reply.
    ///
    /// Throws `QuellError.unavailable` when Redis cannot be reached (the
    /// command may or may not have been applied when the connection dropped
    /// mid-flight), and `.invalid` for an error reply (`WRONGTYPE`, a typo) or
    /// a command the shared connection must not run: blocking ones (`BLPOP`,
    /// `XREAD … BLOCK`, `WAIT`), ones that change the connection's state
    /// (`SELECT`, `MULTI`, `SUBSCRIBE`, `CLIENT`, `AUTH`), and `MONITOR`.
    /// For an atomic group of commands, use `EVAL` with a Lua script.
    @discardableResult
    public func redisCommand(_ name: String, _ arguments: [any RedisArgument]) async throws(QuellError) -> RedisReply {
        let upper = name.uppercased()
        if Self.refusedCommands.contains(upper) {
            throw .invalid("\(upper) cannot run on the store's shared connection")
        }
        if upper == "XREAD" || upper == "XREADGROUP",
           arguments.contains(where: { ($0 as? String)?.uppercased() == "BLOCK" }) {
            throw .invalid("\(upper) BLOCK cannot run on the store's shared connection")
        }
        return try await mapped { try await redis.send(RedisCommand(name, arguments)) }
    }

    /// Runs one Redis command on the store's shared connection; see
    /// `redisCommand(_:_:)` taking an array.
    @discardableResult
    public func redisCommand(_ name: String, _ arguments: any RedisArgument...) async throws(QuellError) -> RedisReply {
        try await redisCommand(name, arguments)
    }

    /// Commands that would block the shared connection or change its state
    /// under every other caller's feet.
    static let refusedCommands: Set<String> = [
        "BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP", "WAIT", "WAITAOF",
        "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE", "MONITOR",
        "MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH", "SELECT", "AUTH", "HELLO", "RESET", "QUIT", "CLIENT",
    ]
}
