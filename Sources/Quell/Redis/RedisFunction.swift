/// A Redis Functions library (Redis ≥ 7.0): Lua whose top level runs once,
/// at `FUNCTION LOAD`, and registers functions that `FCALL` runs. Compared
/// with `EVALSHA` of a script carrying a shared prelude, a call pays only
/// for its own body. Libraries are persisted and replicated by Redis; one
/// missing anyway (a Redis restarted without persistence, `FUNCTION FLUSH`)
/// is loaded again transparently: `Function not found` means nothing ran,
/// so sending the call again is always safe.
package struct RedisFunctionLibrary: Sendable {
    /// The library's name, as its `#!lua name=` line says. Callers version
    /// it by content, so two versions can be loaded side by side (a rolling
    /// upgrade) and a name always means the same code.
    package let name: String
    /// The whole library, starting with the `#!lua name=…` line.
    package let source: String

    package init(name: String, source: String) {
        self.name = name
        self.source = source
    }
}

/// One function of a `RedisFunctionLibrary`, called with `FCALL`.
package struct RedisFunction: Sendable {
    package let name: String
    package let library: RedisFunctionLibrary

    package init(name: String, library: RedisFunctionLibrary) {
        self.name = name
        self.library = library
    }

    /// The `FCALL` command for these keys and arguments.
    package func command(keys: [String], arguments: [any RedisArgument]) -> RedisCommand {
        var c = RedisCommand("FCALL", name, keys.count)
        for k in keys { c.append(k) }
        for a in arguments { c.append(a) }
        return c
    }
}

extension RedisReply {
    var isFunctionNotFound: Bool {
        if case .error(let m) = self { return m.hasPrefix("ERR Function not found") }
        return false
    }
}

extension RedisFunctionLibrary {
    /// `FUNCTION LOAD`'s answer judged: loaded, or loaded already by someone
    /// else (same name, so same code), is fine; a transient refusal keeps
    /// its code first so it reads as unavailable; anything else names the
    /// library (a Redis before 7.0 answers `unknown command`).
    func checkLoad(_ reply: RedisReply) throws(RedisError) {
        guard case .error(let m) = reply else { return }
        if m.hasPrefix("ERR Library '") && m.hasSuffix("' already exists") { return }
        if RedisError.isTransient(m) { throw .server(m) }
        if m.lowercased().contains("unknown command") {
            throw .server("FUNCTION LOAD \(name): \(m) (Quell needs Redis 7.0 or later, for Redis Functions)")
        }
        throw .server("FUNCTION LOAD \(name): \(m)")
    }

    var loadCommand: RedisCommand { RedisCommand("FUNCTION", "LOAD", source) }
}

extension RedisClient {
    /// Runs a function. Error replies throw `RedisError.server`.
    @discardableResult
    package func run(_ function: RedisFunction, keys: [String], arguments: [any RedisArgument]) async throws -> RedisReply {
        try await runAll(function.library, [function.command(keys: keys, arguments: arguments)])[0].orThrow()
    }

    /// Runs many calls of one library's functions in one batch; replies in
    /// order, error replies as values. Calls refused with `Function not
    /// found` are sent again, in order, after loading the library.
    package func runAll(_ library: RedisFunctionLibrary, _ calls: [RedisCommand]) async throws -> [RedisReply] {
        try await pipelineLoadingOnce(calls, isMissing: \.isFunctionNotFound, load: library.loadCommand, checkLoad: library.checkLoad)
    }
}

extension RedisConnection {
    /// Runs a function on this synchronous connection, loading its library
    /// when Redis does not know it.
    package func run(_ function: RedisFunction, keys: [String], arguments: [any RedisArgument], timeout: Double? = nil) throws(RedisError) -> RedisReply {
        try sendLoadingOnce(function.command(keys: keys, arguments: arguments), timeout: timeout, isMissing: \.isFunctionNotFound,
                            load: function.library.loadCommand, checkLoad: function.library.checkLoad)
    }
}
