/// A command-line mistake: unknown command or option, missing or invalid
/// value, wrong number of arguments. The caller prints `description` (one
/// line) on standard error and exits with `exitCode` (2).
public struct UsageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, e.g. `unknown option '--bogus'`.
    public var message: String
    /// The command it concerns, e.g. `["quell", "jobs", "cancel"]`.
    public var command: [String]

    public init(_ message: String, command: [String]) {
        self.message = message
        self.command = command
    }

    /// The process exit status for a usage error.
    public var exitCode: Int32 { 2 }

    /// `quell jobs cancel: missing argument ID (see 'quell jobs cancel --help')`
    public var description: String {
        let name = command.joined(separator: " ")
        return "\(name): \(message) (see '\(name) --help')"
    }
}
