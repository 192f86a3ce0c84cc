import Dispatch
import Synchronization

/// A contact as the remote serves it.
public struct Contact: Sendable, Equatable {
    public var id: String
    public var name: String
    /// Some contacts have none; the sync skips those.
    public var email: String?
}

/// One page of an account's contacts.
public struct ContactsPage: Sendable {
    public var contacts: [Contact]
    /// How many contacts the account has in all.
    public var total: Int
    /// Where the next page starts; nil after the last page.
    public var next: Int?
}

public enum RemoteError: Error, Equatable, CustomStringConvertible {
    /// A transient failure (think HTTP 503): worth retrying.
    case unavailable(String)
    /// The request was cancelled before it answered.
    case cancelled

    public var description: String {
        switch self {
        case .unavailable(let why): return "remote unavailable: \(why)"
        case .cancelled: return "request cancelled"
        }
    }
}

/// A deterministic stand-in for a remote contacts API, shaped like a typical
/// callback-based SDK: `fetchPage` starts a request and answers later on a
/// Dispatch queue; the returned request can be cancelled.
///
/// Account `a` has `simulation.contacts` contacts `a-000000`, `a-000001`, …;
/// every 10th has no email, and every 25th repeats the one before it (the
/// same id: remotes do serve duplicates across pages).
public final class FakeContactsRemote: Sendable {
    /// Second-page failures served so far, per account.
    private let failuresServed = Mutex<[String: Int]>([:])

    public init() {}

    /// A pending request: `cancel()` answers it with `.cancelled` at once
    /// (if it has not answered yet).
    public final class Request: Sendable {
        private let completion: Mutex<(@Sendable (Result<ContactsPage, RemoteError>) -> Void)?>

        init(_ completion: @escaping @Sendable (Result<ContactsPage, RemoteError>) -> Void) {
            self.completion = Mutex(completion)
        }

        /// Calls the completion once; later calls do nothing.
        func answer(_ result: Result<ContactsPage, RemoteError>) {
            let completion = self.completion.withLock { c in
                defer { c = nil }
                return c
            }
            completion?(result)
        }

        public func cancel() { answer(.failure(.cancelled)) }
    }

    /// Starts fetching the page of `account` that begins at `offset`;
    /// `completion` is called exactly once, never on the calling thread.
    @discardableResult
    public func fetchPage(account: String, offset: Int, limit: Int, simulation: ContactsSync.Simulation,
                          completion: @escaping @Sendable (Result<ContactsPage, RemoteError>) -> Void) -> Request {
        let request = Request(completion)
        let result: Result<ContactsPage, RemoteError>
        if offset > 0 && serveFailure(account: account, limit: simulation.transientFailures) {
            result = .failure(.unavailable("503 from the contacts API for \(account)"))
        } else {
            let end = min(simulation.contacts, offset + limit)
            let contacts = (offset..<max(offset, end)).map { Self.contact(account: account, number: $0) }
            result = .success(ContactsPage(contacts: contacts, total: simulation.contacts,
                                           next: end < simulation.contacts ? end : nil))
        }
        let delay = DispatchTimeInterval.milliseconds(max(0, simulation.pageDelayMilliseconds))
        DispatchQueue.global().asyncAfter(deadline: .now() + delay) { request.answer(result) }
        return request
    }

    /// True for the first `limit` second-page requests of `account`.
    private func serveFailure(account: String, limit: Int) -> Bool {
        failuresServed.withLock { served in
            guard served[account, default: 0] < limit else { return false }
            served[account, default: 0] += 1
            return true
        }
    }

    static func contact(account: String, number n: Int) -> Contact {
        let id = n % 25 == 24 ? n - 1 : n
        let digits = String(id)
        return Contact(id: "\(account)-\(String(repeating: "0", count: max(0, 6 - digits.count)))\(digits)",
                       name: "Contact \(id)", email: id % 10 == 9 ? nil : "c\(id)@\(account).example")
    }
}

extension FakeContactsRemote {
    /// The page, as an async call: cancelling the calling task (which is
    /// what a Quell cancel does to a handler) cancels the request at once
    /// instead of waiting for its answer.
    public func page(account: String, offset: Int, limit: Int, simulation: ContactsSync.Simulation) async throws -> ContactsPage {
        let pending = PendingRequest()
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    pending.started(fetchPage(account: account, offset: offset, limit: limit, simulation: simulation) {
                        continuation.resume(with: $0)
                    })
                }
            } onCancel: {
                pending.cancel()
            }
        } catch RemoteError.cancelled {
            throw CancellationError()
        }
    }
}

/// A request that may be cancelled before it has started: the cancel handler
/// can run before, during or after the operation's first line.
private final class PendingRequest: Sendable {
    private let state = Mutex<(request: FakeContactsRemote.Request?, cancelled: Bool)>((nil, false))

    func started(_ request: FakeContactsRemote.Request) {
        let cancelled = state.withLock { s in
            s.request = request
            return s.cancelled
        }
        if cancelled { request.cancel() }
    }

    func cancel() {
        let request = state.withLock { s in
            s.cancelled = true
            return s.request
        }
        request?.cancel()
    }
}
