import FoundationEssentials
import Synchronization

/// A task's parameters: a `Codable` value whose type names its task once.
///
///     struct ContactsSync: TaskParameters {
///         static let taskName = "contacts.sync"
///         static let defaults = TaskDefaults(queue: "contacts", maxAttempts: 5)
///         var account: String
///         var since: Date?
///     }
///
/// The producer enqueues a value (`store.enqueue(ContactsSync(account: "a-1"))`),
/// the worker registers a handler for the type (`registry.register(ContactsSync.self) { … }`);
/// both read `taskName` and `defaults` from here, so they cannot disagree.
public protocol TaskParameters: Codable, Sendable {
    /// The task type as stored and routed, e.g. `contacts.sync` (1–128 printable characters).
    static var taskName: String { get }
    /// Queue, attempts, timeout and retry backoff for jobs of this task.
    static var defaults: TaskDefaults { get }
}

extension TaskParameters {
    /// `TaskDefaults()`: queue `default`, 3 attempts, the adaptive timeout.
    public static var defaults: TaskDefaults { TaskDefaults() }
}

/// Per-task defaults. An enqueue may still override queue, attempts and timeout.
public struct TaskDefaults: Sendable, Equatable {
    /// How long a job may run before it is stopped as `timed_out`.
    public enum Timeout: Sendable, Equatable {
        /// `clamp(base + perItem × total, min, max)` from the store's `TimeoutPolicy`,
        /// recomputed when the handler reports its total.
        case adaptive
        /// A fixed number of seconds.
        case fixed(Double)
    }

    /// The queue jobs of the task go to.
    public var queue: String
    /// Runs allowed before a failing job is `failed`.
    public var maxAttempts: Int
    /// How long a job may run.
    public var timeout: Timeout
    /// Delays between retries of a failing handler; nil uses the worker's.
    public var retryBackoff: Backoff?

    /// Defaults for a task; each may be overridden per enqueue (but `retryBackoff`).
    public init(queue: String = "default", maxAttempts: Int = 3, timeout: Timeout = .adaptive, retryBackoff: Backoff? = nil) {
        self.queue = queue
        self.maxAttempts = maxAttempts
        self.timeout = timeout
        self.retryBackoff = retryBackoff
    }
}

/// Handlers by task type. Params are decoded from the job's JSON with
/// `JSONDecoder`; a job whose params cannot be decoded fails at once with
/// the reason (it would fail the same way on every retry).
///
/// Registering a type twice is a programming error and stops the process
/// (`preconditionFailure`), never a silent replace.
public final class TaskRegistry: Sendable {
    typealias Runner = @Sendable (_ params: String, _ context: JobContext) async throws -> JobResult
    struct Entry: Sendable {
        let run: Runner
        let retryBackoff: Backoff?
    }
    private let handlers = Mutex<[String: Entry]>([:])

    /// An empty registry.
    public init() {}

    /// Registers the handler of a typed task.
    public func register<Params: TaskParameters>(
        _ params: Params.Type,
        _ handler: @escaping @Sendable (Params, JobContext) async throws -> JobResult
    ) {
        register(Params.taskName, params: Params.self, retryBackoff: Params.defaults.retryBackoff, handler)
    }

    /// Registers a handler for `type` taking `Params` decoded from the job's params
    /// (the untyped path: any `Decodable`, the type name given here).
    public func register<Params: Decodable & Sendable>(
        _ type: String, params: Params.Type = Params.self, retryBackoff: Backoff? = nil,
        _ handler: @escaping @Sendable (Params, JobContext) async throws -> JobResult
    ) {
        do {
            try add(type, params: Params.self, retryBackoff: retryBackoff, handler)
        } catch {
            preconditionFailure("\(error)")
        }
    }

    /// Registers, or throws `TaskRegistryError.duplicate` (what `register` traps on).
    func add<Params: Decodable & Sendable>(
        _ type: String, params: Params.Type, retryBackoff: Backoff?,
        _ handler: @escaping @Sendable (Params, JobContext) async throws -> JobResult
    ) throws(TaskRegistryError) {
        let runner: Runner = { text, context in
            let params: Params
            do {
                params = try JSONDecoder().decode(Params.self, from: Data(text.utf8))
            } catch {
                throw PayloadError(message: "cannot decode params for \(type): \(Self.describe(error))")
            }
            return try await handler(params, context)
        }
        let added = handlers.withLock { h -> Bool in
            if h[type] != nil { return false }
            h[type] = Entry(run: runner, retryBackoff: retryBackoff)
            return true
        }
        if !added { throw .duplicate(type) }
    }

    /// The registered task types.
    public var types: [String] { handlers.withLock { Array($0.keys).sorted() } }

    func entry(for type: String) -> Entry? { handlers.withLock { $0[type] } }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing field '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "wrong type at '\(c.codingPath.map(\.stringValue).joined(separator: "."))': \(c.debugDescription)"
        case DecodingError.dataCorrupted(let c): return c.debugDescription
        default: return "\(error)"
        }
    }
}

/// Why a registration was refused.
enum TaskRegistryError: Error, Equatable, CustomStringConvertible {
    case duplicate(String)
    var description: String { "task type '\(self.typeName)' is registered twice" }
    private var typeName: String { if case .duplicate(let t) = self { return t }; return "" }
}
