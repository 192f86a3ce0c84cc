/// A Lua script run with `EVALSHA`, loaded again transparently when Redis
/// answers `NOSCRIPT` (after `SCRIPT FLUSH` or a restart). `NOSCRIPT` means
/// the script did not run, so retrying it is always safe.
package struct RedisScript: Sendable {
    package let name: String
    package let source: String
    /// SHA-1 of `source`, as Redis names it.
    package let sha1: String

    package init(name: String, source: String) {
        self.name = name
        self.source = source
        self.sha1 = SHA1.hex(source)
    }

    /// The `EVALSHA` command for these keys and arguments.
    package func command(keys: [String], arguments: [any RedisArgument]) -> RedisCommand {
        var c = RedisCommand("EVALSHA", sha1, keys.count)
        for k in keys { c.append(k) }
        for a in arguments { c.append(a) }
        return c
    }
}

extension RedisReply {
    var isNoScript: Bool {
        if case .error(let m) = self { return m.hasPrefix("NOSCRIPT") }
        return false
    }
}

extension RedisClient {
    /// Runs a script. Error replies throw `RedisError.server`.
    @discardableResult
    package func run(_ script: RedisScript, keys: [String], arguments: [any RedisArgument]) async throws -> RedisReply {
        try await runAll(script, [script.command(keys: keys, arguments: arguments)])[0].orThrow()
    }

    /// Runs many calls of one script in one batch; replies in order, error
    /// replies as values. Calls refused with `NOSCRIPT` are sent again, in
    /// order, after loading the script.
    package func runAll(_ script: RedisScript, _ calls: [RedisCommand]) async throws -> [RedisReply] {
        try await pipelineLoadingOnce(calls, isMissing: \.isNoScript, load: RedisCommand("SCRIPT", "LOAD", script.source)) { reply throws(RedisError) in
            // A transient refusal (LOADING…) keeps its code first, so it reads as unavailable.
            if case .error(let m) = reply { throw .server(RedisError.isTransient(m) ? m : "SCRIPT LOAD \(script.name): \(m)") }
        }
    }

    /// Sends `calls`; if any reply says Redis lacks the code they call
    /// (`isMissing`: nothing ran), sends `load` then exactly those calls
    /// again, in order, and puts their replies in place. `checkLoad` judges
    /// the load's reply. Scripts and function libraries both reload this way.
    /// `load` is built only when needed: encoding a library's source (55 KB)
    /// for every call copied and freed 55 KB per round trip for nothing.
    func pipelineLoadingOnce(_ calls: [RedisCommand], isMissing: (RedisReply) -> Bool, load: @autoclosure () -> RedisCommand,
                             checkLoad: (RedisReply) throws(RedisError) -> Void) async throws -> [RedisReply] {
        var replies = try await pipeline(calls)
        let missing = replies.indices.filter { isMissing(replies[$0]) }
        if missing.isEmpty { return replies }
        let again = try await pipeline([load()] + missing.map { calls[$0] })
        try checkLoad(again[0])
        for (i, index) in missing.enumerated() { replies[index] = again[i + 1] }
        return replies
    }
}

extension RedisConnection {
    /// Runs a script on this synchronous connection, loading it on `NOSCRIPT`.
    package func run(_ script: RedisScript, keys: [String], arguments: [any RedisArgument], timeout: Double? = nil) throws(RedisError) -> RedisReply {
        try sendLoadingOnce(script.command(keys: keys, arguments: arguments), timeout: timeout, isMissing: \.isNoScript,
                            load: RedisCommand("SCRIPT", "LOAD", script.source)) { reply throws(RedisError) in
            if case .error(let m) = reply { throw .server(RedisError.isTransient(m) ? m : "SCRIPT LOAD \(script.name): \(m)") }
        }
    }

    /// `RedisClient.pipelineLoadingOnce` for one command on this connection.
    func sendLoadingOnce(_ command: RedisCommand, timeout: Double?, isMissing: (RedisReply) -> Bool, load: @autoclosure () -> RedisCommand,
                         checkLoad: (RedisReply) throws(RedisError) -> Void) throws(RedisError) -> RedisReply {
        let reply = try send(command, timeout: timeout)
        if !isMissing(reply) { return reply }
        try checkLoad(try send(load()))
        return try send(command, timeout: timeout)
    }
}
