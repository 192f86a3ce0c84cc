import Quell

/// The handler of `contacts.sync`: imports an account's contacts page by page.
///
/// Progress: stage `connecting`, then `importing` with current/total and the
/// counters `imported` (new in the address book) and `skipped` (no email, or
/// already there), then `done`. Between pages it calls `checkpoint()`, so a
/// cancel stops it there with the counters of the pages it finished; a cancel
/// that arrives while a page is being fetched cancels that request at once.
/// After each page it saves a checkpoint cursor (the next offset) with the
/// counters: a remote failure is thrown and the worker retries the job
/// (`ContactsSync.defaults`), and the new attempt — like a recovery after the
/// worker died — continues after the last saved page.
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
        // A retry, or a recovery after the worker died, continues after the last
        // saved page, with the counters saved with it.
        var offset: Int? = try context.cursor(as: ContactsCursor.self)?.offset ?? 0
        var imported = context.currentProgress.counters["imported"] ?? 0
        var skipped = context.currentProgress.counters["skipped"] ?? 0
        if offset == 0 { context.progress(stage: "connecting", counters: ["imported": 0, "skipped": 0]) }
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
            if let next = offset { try await context.saveCursor(ContactsCursor(offset: next)) }
        }
        context.progress(stage: "done")
        return .completed
    }
}

/// Where a contacts sync has got to: the offset of the next page.
struct ContactsCursor: Codable, Sendable {
    var offset: Int
}
