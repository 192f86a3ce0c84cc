import Synchronization

/// Where the sync stores what it imported: here, in memory in the worker
/// process. A real task writes to its database; the handler gets it the
/// same way, captured when the handler is registered.
public final class AddressBook: Sendable {
    /// Per tenant and account, the contacts by id.
    private let books = Mutex<[String: [String: Contact]]>([:])

    public init() {}

    /// Adds `contact` unless a contact with its id is already there; returns
    /// whether it was added.
    public func insert(_ contact: Contact, tenant: String, account: String) -> Bool {
        books.withLock { books in
            let book = "\(tenant)/\(account)"
            if books[book]?[contact.id] != nil { return false }
            books[book, default: [:]][contact.id] = contact
            return true
        }
    }

    /// How many contacts `account` has here.
    public func count(tenant: String, account: String) -> Int {
        books.withLock { $0["\(tenant)/\(account)"]?.count ?? 0 }
    }
}
