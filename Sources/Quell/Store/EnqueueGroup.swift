import Synchronization

/// Group commit for single enqueues: requests that arrive while one
/// enqueue call is on its way to Redis go together in the next call, as one
/// `enqueue` function call carrying them all. Redis pays its per-call cost
/// (the call itself, the tenant and queue bookkeeping, the reply) once per
/// group instead of once per job — and Redis's CPU per job is the ceiling
/// of the whole fleet.
///
/// Nothing waits to fill a group: a request arriving when no call is in
/// flight is sent at once (a lone client sees the latency of one call), so
/// groups form only under concurrency, exactly when they pay. Order within a
/// group is arrival order; a group is one atomic function call, so two
/// requests for one dedupe key in one group behave as if sent one after the
/// other (the second gets `.conflict` with the first).
final class EnqueueGroup: Sendable {
    typealias Send = @Sendable ([EnqueueRequest]) async throws(QuellError) -> [Result<Job, QuellError>]
    private struct Waiting {
        let request: EnqueueRequest
        let continuation: CheckedContinuation<Result<Job, QuellError>, Never>
    }
    private struct State {
        var waiting: [Waiting] = []
        var sending = false
    }
    private let state = Mutex(State())
    /// At most this many requests per call (a call's arguments grow with it).
    let limit: Int

    init(limit: Int = 128) {
        self.limit = limit
    }

    /// Requests waiting for the next call (tests wait on it).
    var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// Enqueues `request` with whatever else is waiting; `send` performs one
    /// batched call.
    func enqueue(_ request: EnqueueRequest, send: @escaping Send) async -> Result<Job, QuellError> {
        await withCheckedContinuation { continuation in
            let lead = state.withLock { s -> Bool in
                s.waiting.append(Waiting(request: request, continuation: continuation))
                if s.sending { return false }
                s.sending = true
                return true
            }
            // The first request into an idle group sends; the sender keeps
            // sending until nothing is waiting, then the group is idle again.
            if lead { Task { await self.sendUntilEmpty(send) } }
        }
    }

    private func sendUntilEmpty(_ send: Send) async {
        while true {
            let group = state.withLock { s -> [Waiting] in
                if s.waiting.isEmpty {
                    s.sending = false
                    return []
                }
                let n = min(limit, s.waiting.count)
                let group = Array(s.waiting.prefix(n))
                s.waiting.removeFirst(n)
                return group
            }
            if group.isEmpty { return }
            do throws(QuellError) {
                let results = try await send(group.map(\.request))
                for (w, r) in zip(group, results) { w.continuation.resume(returning: r) }
            } catch {
                for w in group { w.continuation.resume(returning: .failure(error)) }
            }
        }
    }
}
