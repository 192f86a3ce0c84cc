import FoundationEssentials

extension JobStore {
    /// Up to `limit` events after stream id `after`, waiting up to `block` seconds for the
    /// first (`XREAD BLOCK`); empty when the wait ended with none. It blocks a connection,
    /// so it runs on `client`, one of the caller's own whose command timeout is longer
    /// than `block` — not on the store's shared, pipelining one.
    package func readEvents(after: String, limit: Int, block: Double, on client: RedisClient) async throws(QuellError) -> [JobEvent] {
        let position = try EventID.parse(after)
        if position.index != nil {
            // Part way through an entry (as this reader's own positions,
            // taken from whole entries, never are): the rest first.
            let rest = try await events(after: after, limit: limit)
            if !rest.isEmpty { return rest }
        }
        let reply = try await mapped {
            try await client.send(RedisCommand(
                "XREAD", "COUNT", max(1, limit), "BLOCK", max(1, Int(block * 1000)), "STREAMS", keys.events, position.entry))
        }
        guard case .array(let streams) = reply else { return [] }  // nil: the wait ended
        var out: [JobEvent] = []
        for stream in streams {
            guard let pair = stream.array, pair.count == 2 else { throw .corrupt("malformed XREAD reply \(stream)") }
            out += try decodeEvents(pair[1])
        }
        return out
    }
}
