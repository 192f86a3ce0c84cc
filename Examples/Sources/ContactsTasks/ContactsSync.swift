import Quell

/// The parameters of a contacts sync: which account to import from, and how.
///
/// One type, shared by the producer (which enqueues a value of it) and the
/// worker (which registers a handler for it): `taskName` and `defaults` are
/// read by both, so they cannot disagree.
public struct ContactsSync: TaskParameters {
    public static let taskName = "contacts.sync"
    /// Its own queue (the worker must listen to it); 3 attempts; a failing
    /// attempt is retried after 0.25–0.5 s, then 0.5–1 s, … (at most a minute).
    public static let defaults = TaskDefaults(queue: "contacts", maxAttempts: 3,
                                              retryBackoff: Backoff(base: 0.5, max: 60))

    /// The remote account whose contacts are imported.
    public var account: String
    /// Contacts asked for per page.
    public var pageSize: Int
    /// How the fake remote behaves (a real task would not have this).
    public var simulation: Simulation

    public init(account: String, pageSize: Int = 50, simulation: Simulation = Simulation()) {
        self.account = account
        self.pageSize = pageSize
        self.simulation = simulation
    }

    /// The dedupe key: one sync per account at a time.
    public var key: String { "contacts:\(account)" }
}

extension ContactsSync {
    /// Checks what it decodes: a job whose params do not decode fails at once
    /// with the reason, without retries (retrying could not help).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        account = try c.decode(String.self, forKey: .account)
        pageSize = try c.decode(Int.self, forKey: .pageSize)
        simulation = try c.decode(Simulation.self, forKey: .simulation)
        guard !account.isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: .account, in: c, debugDescription: "account must not be empty")
        }
        guard (1...1000).contains(pageSize) else {
            throw DecodingError.dataCorruptedError(forKey: .pageSize, in: c, debugDescription: "pageSize must be 1…1000")
        }
    }
}

extension ContactsSync {
    /// The knobs of `FakeContactsRemote`.
    public struct Simulation: Codable, Sendable {
        /// How many contacts the account has.
        public var contacts: Int
        /// How long the remote takes to answer one page.
        public var pageDelayMilliseconds: Int
        /// The first `transientFailures` attempts fail on the second page
        /// (as a remote answering 503 would), so the job is retried.
        public var transientFailures: Int

        public init(contacts: Int = 500, pageDelayMilliseconds: Int = 20, transientFailures: Int = 0) {
            self.contacts = contacts
            self.pageDelayMilliseconds = pageDelayMilliseconds
            self.transientFailures = transientFailures
        }
    }
}
