import FoundationEssentials
import Quell

/// Typed access to one command's values with the fallback order of
/// DESIGN.md: the command line, then the environment, then the default.
/// Every bad value is a `UsageError` naming where it came from
/// (`--port` or `QUELL_PORT`). Empty environment variables count as unset.
public struct OptionResolver: Sendable {
    public let arguments: ParsedArguments
    public let spec: CommandSpec
    public let environment: [String: String]
    /// For error messages, e.g. `["quell", "worker"]`.
    public let command: [String]

    public init(arguments: ParsedArguments, spec: CommandSpec, environment: [String: String], command: [String]) {
        self.arguments = arguments
        self.spec = spec
        self.environment = environment
        self.command = command
    }

    /// Where a value came from, for error messages.
    public enum Source: Sendable, Equatable {
        case commandLine(String)
        case environment(String)
        case defaultValue

        var label: String {
            switch self {
            case .commandLine(let flag): flag
            case .environment(let name): name
            case .defaultValue: "default"
            }
        }
    }

    /// The raw value of option `name`, with its source; nil when unset everywhere.
    public func raw(_ name: String) -> (value: String, source: Source)? {
        let option = spec.option(named: name)
        if let value = arguments.values[name] { return (value, .commandLine("--\(name)")) }
        if let variable = option?.environment, let value = environment[variable], !value.isEmpty {
            return (value, .environment(variable))
        }
        if let value = option?.defaultValue { return (value, .defaultValue) }
        return nil
    }

    /// The raw value of an environment-only setting, or its default.
    public func raw(_ setting: Setting) -> (value: String, source: Source)? {
        if let flag = setting.flag, spec.option(named: flag) != nil { return raw(flag) }
        if let value = environment[setting.environment], !value.isEmpty { return (value, .environment(setting.environment)) }
        return setting.defaultValue.map { ($0, .defaultValue) }
    }

    public func error(_ message: String) -> UsageError { UsageError(message, command: command) }

    private func invalid(_ found: (value: String, source: Source), _ expected: String, echo: Bool = true) -> UsageError {
        if echo { return error("invalid value '\(found.value)' for \(found.source.label): expected \(expected)") }
        return error("invalid value for \(found.source.label): expected \(expected)")
    }

    // MARK: - Typed values

    public func string(_ name: String) -> String? { raw(name)?.value }

    /// A boolean flag: on the command line, or its environment variable set
    /// to 1/true/yes/on (0/false/no/off mean off).
    public func flag(_ name: String) throws(UsageError) -> Bool {
        if arguments.flags.contains(name) { return true }
        guard let variable = spec.option(named: name)?.environment, let value = environment[variable] else { return false }
        return try boolean((value, .environment(variable)))
    }

    public func boolean(_ found: (value: String, source: Source)) throws(UsageError) -> Bool {
        switch found.value.lowercased() {
        case "1", "true", "yes", "on": return true
        case "", "0", "false", "no", "off": return false
        default: throw invalid(found, "1 or 0")
        }
    }

    public func integer(_ found: (value: String, source: Source), in range: ClosedRange<Int>) throws(UsageError) -> Int {
        guard let value = Int(found.value), range.contains(value) else {
            let expected = range.upperBound == Int.max
                ? "an integer ≥ \(range.lowerBound)"
                : "an integer from \(range.lowerBound) to \(range.upperBound)"
            throw invalid(found, expected)
        }
        return value
    }

    /// Seconds, fractional allowed (`0.2`); finite and at least `minimum`
    /// (strictly above zero when `positive`).
    public func seconds(_ found: (value: String, source: Source), positive: Bool = false) throws(UsageError) -> Double {
        guard let value = Double(found.value), value.isFinite, positive ? value > 0 : value >= 0 else {
            throw invalid(found, positive ? "a number of seconds > 0" : "a number of seconds ≥ 0")
        }
        return value
    }

    public func integer(_ name: String, in range: ClosedRange<Int>) throws(UsageError) -> Int? {
        guard let found = raw(name) else { return nil }
        return try integer(found, in: range)
    }

    public func seconds(_ name: String, positive: Bool = false) throws(UsageError) -> Double? {
        guard let found = raw(name) else { return nil }
        return try seconds(found, positive: positive)
    }

    public func milliseconds(_ setting: Setting, in range: ClosedRange<Double>) throws(UsageError) -> Double {
        guard let found = raw(setting) else { preconditionFailure("setting \(setting.environment) has no default") }
        guard let value = Double(found.value), range.contains(value) else {
            throw invalid(found, "a number of milliseconds from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    public func seconds(_ setting: Setting, positive: Bool = false) throws(UsageError) -> Double {
        guard let found = raw(setting) else { preconditionFailure("setting \(setting.environment) has no default") }
        return try seconds(found, positive: positive)
    }

    /// A Redis URL: `redis://…` or `unix://…`. The value is never echoed in
    /// errors (it may hold a password).
    public func redisURL(_ found: (value: String, source: Source)) throws(UsageError) -> String {
        let value = found.value
        let valid = (value.hasPrefix("redis://") && value.count > "redis://".count)
            || (value.hasPrefix("unix://") && value.count > "unix://".count)
        guard valid else { throw invalid(found, "redis://[user:pass@]host:port/db or unix:///path", echo: false) }
        return value
    }

    /// A comma-separated list of non-empty names (spaces around names trimmed).
    public func list(_ found: (value: String, source: Source)) throws(UsageError) -> [String] {
        let items = found.value.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingSpaces() }
        guard !items.isEmpty, !items.contains(where: \.isEmpty) else { throw invalid(found, "a comma-separated list of names") }
        return items
    }

    /// `TOKEN=TENANT,TOKEN2=TENANT2` as token → tenant. Tokens are secrets:
    /// never echoed in errors.
    public func tokens(_ found: (value: String, source: Source)) throws(UsageError) -> [String: String] {
        var tokens: [String: String] = [:]
        for entry in found.value.split(separator: ",") {
            let pair = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                .map { $0.trimmingSpaces() }
            guard pair.count == 2, !pair[0].isEmpty, !pair[1].isEmpty else {
                throw invalid(found, "TOKEN=TENANT[,TOKEN=TENANT…]", echo: false)
            }
            tokens[pair[0]] = pair[1]
        }
        return tokens
    }

    /// A JSON object, returned as the text given.
    public func jsonObject(_ found: (value: String, source: Source)) throws(UsageError) -> String {
        guard case .object? = try? JSONValue.parse(found.value) else { throw invalid(found, "a JSON object") }
        return found.value
    }

    /// One of `choices`.
    public func choice(_ found: (value: String, source: Source), of choices: [String]) throws(UsageError) -> String {
        guard choices.contains(found.value) else { throw invalid(found, "one of \(choices.joined(separator: ", "))") }
        return found.value
    }
}
