/// Health of the store's connection, for probes (`GET /healthz`).
extension JobStore {
    /// Returns when Redis answers `PING` on the store's connection; throws
    /// `QuellError.unavailable` when it cannot be reached or is not serving
    /// (loading after a restart, say).
    public func ping() async throws(QuellError) {
        _ = try await mapped { try await redis.send(RedisCommand("PING")) }
    }

    /// Closes the store's Redis connection (and its thread). Later calls fail
    /// with `QuellError.unavailable(.closed)`. Call it once nothing uses the
    /// store any more — after the workers on it have shut down.
    public func close() {
        redis.close()
    }
}
