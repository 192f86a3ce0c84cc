import Synchronization

/// Where the sync stores what it imported: here, in memory in the worker
/// process, behind a synchronous API like a blocking database driver's. A
/// real task writes to its database; the handler gets it the same way,
/// captured when the handler is registered.
public final class AddressBook: Sendable {
    /// Per tenant and account, the contacts by id.
    private let books = Mutex<[String: [String: Contact]]>([:])

    public init() {}

    /// Adds each contact unless one with its id is already there; returns
    /// how many were added. (Synchronous: call it through `blocking`.)
    public func insert(_ contacts: [Contact], tenant: String, account: String) -> Int {
        books.withLock { books in
            let book = "\(tenant)/\(account)"
            var added = 0
            for contact in contacts where books[book]?[contact.id] == nil {
                books[book, default: [:]][contact.id] = contact
                added += 1
            }
            return added
        }
    }

    /// How many contacts `account` has here.
    public func count(tenant: String, account: String) -> Int {
        books.withLock { $0["\(tenant)/\(account)"]?.count ?? 0 }
    }
}
