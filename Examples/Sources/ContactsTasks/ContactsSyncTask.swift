import Quell

/// The handler of `contacts.sync`: imports an account's contacts page by page.
///
/// Progress: stage `connecting`, then `importing` with current/total and the
/// counters `imported` (new in the address book) and `skipped` (no email, or
/// already there), then `done`. Between pages it calls `checkpoint()`, so a
/// cancel stops it there with the counters of the pages it finished; a cancel
/// that arrives while a page is being fetched cancels that request at once.
/// A remote failure is thrown: the worker retries the job (`ContactsSync.defaults`),
/// and the new attempt starts over — contacts already imported count as skipped.
public enum ContactsSyncTask {
    /// Registers the handler with what it needs, captured here.
    public static func register(in registry: TaskRegistry, remote: FakeContactsRemote, book: AddressBook) {
        registry.register(ContactsSync.self) { params, context in
            try await sync(params, context: context, remote: remote, book: book)
        }
    }

    static func sync(_ params: ContactsSync, context: JobContext, remote: FakeContactsRemote,
                     book: AddressBook) async throws -> JobResult {
        let tenant = context.job.tenant
        var imported = 0
        var skipped = 0
        context.progress(stage: "connecting", counters: ["imported": 0, "skipped": 0])
        var offset: Int? = 0
        while let start = offset {
            try context.checkpoint()              // a cancel, the deadline or a shutdown stops here
            let page = try await remote.page(account: params.account, offset: start, limit: params.pageSize,
                                             simulation: params.simulation)
            let withEmail = page.contacts.filter { $0.email != nil }
            let added = try await blocking { book.insert(withEmail, tenant: tenant, account: params.account) }
            imported += added
            skipped += page.contacts.count - added
            offset = page.next
            context.progress(stage: "importing", current: start + page.contacts.count, total: page.total,
                             counters: ["imported": imported, "skipped": skipped])
        }
        context.progress(stage: "done")
        return .completed
    }
}
