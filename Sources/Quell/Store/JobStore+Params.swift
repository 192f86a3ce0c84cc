import FoundationEssentials

extension JobStore {
    /// The params (JSON text) of the jobs `ids` name, by id. Events and most script
    /// replies leave params out (they can be large); this reads them for many jobs in
    /// one round trip: one pipelined `HGET` per distinct valid id. Jobs that do not exist
    /// (or no longer) are absent from the result. No tenant check: it is for jobs the
    /// caller has already been allowed to see (e.g. an event's). An error reply throws
    /// (a refusal such as `BUSY` must not read as "no params").
    public func params(of ids: [String]) async throws(QuellError) -> [String: String] {
        var unique: [String] = []
        var seen = Set<String>()
        for id in ids where JobID.isValid(id) && seen.insert(id).inserted { unique.append(id) }
        if unique.isEmpty { return [:] }
        let replies = try await checkedPipeline(unique.map { RedisCommand("HGET", keys.job($0), "params") })
        var out: [String: String] = [:]
        out.reserveCapacity(unique.count)
        for (id, reply) in zip(unique, replies) {
            if case .bulk(let params) = reply { out[id] = params }
        }
        return out
    }
}
