import Synchronization

/// Group commit for single enqueues: requests that arrive while one
/// enqueue call is on its way to Redis go together in the next call, as one
/// `enqueue` function call carrying them all. Redis pays its per-call cost
/// (the call itself, the tenant and queue bookkeeping, the reply) once per
/// group instead of once per job — and Redis's CPU per job is the ceiling
/// of the whole fleet.
///
/// A request arriving when no call is in flight is sent at once (a lone
/// client sees the latency of one call), so groups form only under
/// concurrency, exactly when they pay. Then the sender lingers: after a
/// call, it waits (at most `linger`) until as many requests are waiting as
/// that call answered plus those that waited behind it — producers that
/// send their next job as soon as one is accepted come straight back.
/// Without that, k such producers split into two alternating half-full
/// calls: one in flight while the rest wait behind it. Order within a
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
        /// While the sender lingers: its wake-up, the number of waiting
        /// requests that ends the linger, and which linger it is (a timer
        /// of an earlier one must not wake a later one).
        var lingerer: CheckedContinuation<Void, Never>?
        var lingerTarget = 0
        var lingerID = 0
    }
    private let state = Mutex(State())
    /// At most this many requests per call (a call's arguments grow with it).
    let limit: Int
    /// How long the sender waits, at most, for the callers it expects back
    /// (`.zero`: never waits).
    let linger: Duration

    init(limit: Int = 128, linger: Duration = .microseconds(500)) {
        self.limit = limit
        self.linger = linger
    }

    /// Requests waiting for the next call (tests wait on it).
    var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// Enqueues `request` with whatever else is waiting; `send` performs one
    /// batched call.
    func enqueue(_ request: EnqueueRequest, send: @escaping Send) async -> Result<Job, QuellError> {
        await withCheckedContinuation { continuation in
            let (lead, wake) = state.withLock { s -> (Bool, CheckedContinuation<Void, Never>?) in
                s.waiting.append(Waiting(request: request, continuation: continuation))
                if !s.sending {
                    s.sending = true
                    return (true, nil)
                }
                guard let lingerer = s.lingerer, s.waiting.count >= s.lingerTarget else { return (false, nil) }
                s.lingerer = nil
                return (false, lingerer)
            }
            wake?.resume()
            // The first request into an idle group sends; the sender keeps
            // sending until nothing is waiting, then the group is idle again.
            if lead { Task { await self.sendUntilEmpty(send) } }
        }
    }

    private func sendUntilEmpty(_ send: Send) async {
        // The callers the last call answered, and those already waiting
        // then: who is likely to be back for the next call.
        var expected = 0
        while true {
            if expected > 0, linger > .zero { await lingerUntil(min(expected, limit)) }
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
                expected = group.count + state.withLock { $0.waiting.count }
                for (w, r) in zip(group, results) { w.continuation.resume(returning: r) }
            } catch {
                expected = 0
                for w in group { w.continuation.resume(returning: .failure(error)) }
            }
        }
    }

    /// Waits until `target` requests are waiting or `linger` has passed.
    private func lingerUntil(_ target: Int) async {
        var timer: Task<Void, Never>?
        await withCheckedContinuation { (k: CheckedContinuation<Void, Never>) in
            let id = state.withLock { s -> Int? in
                if s.waiting.count >= target { return nil }
                s.lingerID &+= 1
                s.lingerer = k
                s.lingerTarget = target
                return s.lingerID
            }
            guard let id else { return k.resume() }
            timer = Task { [linger] in
                try? await Task.sleep(for: linger)
                let k = state.withLock { s -> CheckedContinuation<Void, Never>? in
                    guard s.lingerID == id, let k = s.lingerer else { return nil }
                    s.lingerer = nil
                    return k
                }
                k?.resume()
            }
        }
        timer?.cancel()
    }
}
