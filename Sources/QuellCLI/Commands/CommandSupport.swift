import FoundationEssentials
import Quell

/// A command's failure: a one-line message for stderr and the exit code.
/// Exit codes (see `QuellMain`): 1 not found / not cancellable / conflict /
/// corrupt data, 2 usage, 3 Redis unreachable.
struct CommandFailure: Error, Sendable, Equatable {
    var message: String
    var exitCode: Int32

    init(_ message: String, exitCode: Int32) {
        self.message = message
        self.exitCode = exitCode
    }

    init(_ error: QuellError) {
        self.init(error.description, exitCode: error.exitCode)
    }

    init(_ error: UsageError) {
        self.init(error.message, exitCode: error.exitCode)
    }
}

extension QuellError {
    /// The process exit status a command reports for this error.
    var exitCode: Int32 {
        switch self {
        case .unavailable: return 3
        case .invalid: return 2
        case .notFound, .notCancellable, .notPausable, .notResumable, .conflict, .corrupt: return 1
        }
    }
}

/// The shared frame of every command that talks to Redis: build the store
/// from the settings (a bad URL or prefix is a usage error), run `body`,
/// and turn any failure into one line on stderr and its exit code.
/// Commands act as an admin (tenant nil) unless given a tenant.
func runStoreCommand(_ command: String, _ settings: RedisSettings, reaper: ReaperOptions? = nil,
                     _ body: (JobStore) async throws -> Void) async -> Int32 {
    let store: JobStore
    do {
        store = try makeStore(settings, reaper: reaper, command: command)
    } catch {
        printError(error.description)
        return error.exitCode
    }
    do {
        try await body(store)
        return 0
    } catch let failure as CommandFailure {
        printError("\(command): \(failure.message)")
        return failure.exitCode
    } catch let error as QuellError {
        printError("\(command): \(error.description)")
        return error.exitCode
    } catch let error as UsageError {
        printError(UsageError(error.message, command: command.split(separator: " ").map(String.init)).description)
        return error.exitCode
    } catch {
        printError("\(command): \(error)")
        return 1
    }
}

/// A store on the configured Redis, with a client of its own.
func makeStore(_ settings: RedisSettings, reaper: ReaperOptions? = nil, staleAfter: Double? = nil,
               command: String) throws(UsageError) -> JobStore {
    let path = command.split(separator: " ").map(String.init)
    var configuration: QuellConfiguration
    do {
        configuration = try settings.configuration(reaper: reaper)
    } catch {
        throw UsageError(error.message, command: path)
    }
    if let staleAfter { configuration.staleAfter = staleAfter }
    // A CLI command is short-lived: fail fast when Redis is not there.
    let options = RedisOptions(connectTimeout: 2, commandTimeout: 10, clientName: "quell-cli")
    return JobStore(redis: RedisClient(url: configuration.redisURL, options: options), configuration: configuration)
}

/// Checks a tenant given on the command line (it becomes part of key names).
func validTenant(_ tenant: String?) throws(UsageError) -> String? {
    guard let tenant else { return nil }
    do {
        try QuellConfiguration.validateName(tenant, what: "--tenant")
    } catch {
        throw UsageError("\(error)", command: [])
    }
    return tenant
}

/// Writes `text` to standard output (a newline is added when missing).
func printOutput(_ text: String) {
    print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
}
