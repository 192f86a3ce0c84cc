/// Removing a whole prefix: what `quell demo --redis URL` does when it ends
/// with the keys it made (and checks before it starts, so it never wipes
/// someone's data). Every key Quell writes is under `{prefix}:` (see `Keys`).
extension JobStore {
    /// Deletes every key under this store's prefix (`SCAN MATCH {prefix}:*`,
    /// then `UNLINK` of each page); returns how many were deleted. Not atomic:
    /// stop whatever writes under the prefix (workers, api) first.
    /// On Redis Cluster this sees only the node the client talks to.
    @discardableResult
    package func deleteEverything() async throws(QuellError) -> Int {
        var deleted = 0
        var cursor = "0"
        repeat {
            let (next, found) = try await scanPage(cursor)
            if !found.isEmpty {
                let reply = try await mapped {
                    try await redis.send(RedisCommand("UNLINK", found.map { $0 as any RedisArgument })).orThrow()
                }
                deleted += reply.int ?? 0
            }
            cursor = next
        } while cursor != "0"
        return deleted
    }

    /// Whether any key exists under this store's prefix — besides, with
    /// `ignoringLiveness`, the liveness record every store writes as it
    /// connects (so a prefix nobody used reads as empty to a store on it).
    package func holdsAnyKeys(ignoringLiveness: Bool = false) async throws(QuellError) -> Bool {
        var cursor = "0"
        repeat {
            let (next, found) = try await scanPage(cursor)
            if found.contains(where: { !ignoringLiveness || $0 != keys.liveness }) { return true }
            cursor = next
        } while cursor != "0"
        return false
    }

    /// One `SCAN` page of this prefix's keys. Prefixes are letters, digits,
    /// `.`, `_` and `-` (validated), so the pattern needs no escaping; the
    /// braces are no glob syntax.
    private func scanPage(_ cursor: String) async throws(QuellError) -> (next: String, keys: [String]) {
        let pattern = "\(keys.base):*"
        let reply = try await mapped { try await redis.send(RedisCommand("SCAN", cursor, "MATCH", pattern, "COUNT", 1000)) }
        guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let page = parts[1].array else {
            throw .corrupt("SCAN answered \(reply)")
        }
        return (next, page.compactMap(\.string))
    }
}
