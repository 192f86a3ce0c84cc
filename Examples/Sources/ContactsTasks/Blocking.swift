import Dispatch

/// Runs a blocking call (a synchronous database driver, a C library, file
/// I/O) on a Dispatch thread instead of Swift's cooperative pool, which must
/// never block: a stalled pool stalls every job in the process, and the
/// worker's heartbeats with them.
public func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try work() })
        }
    }
}
