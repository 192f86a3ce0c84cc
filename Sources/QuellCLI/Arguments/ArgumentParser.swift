/// What the command line said, before any typing or environment fallback.
public struct ParsedArguments: Sendable, Equatable {
    /// Command names after the program name, e.g. `["jobs", "cancel"]`.
    public var command: [String]
    /// Option values given on the command line (last one wins), by long name.
    public var values: [String: String]
    /// Boolean flags given on the command line, by long name.
    public var flags: Set<String>
    public var positionals: [String]

    public init(command: [String], values: [String: String] = [:], flags: Set<String> = [],
                positionals: [String] = []) {
        self.command = command
        self.values = values
        self.flags = flags
        self.positionals = positionals
    }
}

/// The result of parsing: help was asked for, or arguments to act on.
public enum ParseOutcome: Sendable, Equatable {
    /// `-h`/`--help` was given: print `text` on standard output, exit 0.
    case help(command: [String], text: String)
    case arguments(ParsedArguments)
}

/// A small, generic parser over a `CommandSpec` tree.
///
/// Rules: command names come first (`quell jobs cancel`); then, in any
/// order, options (`--name VALUE`, `--name=VALUE`, `-x VALUE`), flags
/// (`--name`) and positionals; `--` ends options. A value that starts with
/// `--` is taken as a missing value (write `--name=--odd` for such a value).
/// `-h`/`--help` anywhere before `--` asks for the help of the command named
/// so far, even if other arguments are wrong.
public struct ArgumentParser: Sendable {
    public let root: CommandSpec

    public init(root: CommandSpec) { self.root = root }

    public func parse(_ arguments: [String]) throws(UsageError) -> ParseOutcome {
        var spec = root
        var path: [String] = []
        var index = 0
        while !spec.subcommands.isEmpty {
            let names = [root.name] + path
            guard index < arguments.count else {
                let choices = spec.subcommands.map(\.name).joined(separator: ", ")
                throw UsageError("missing command: one of \(choices)", command: names)
            }
            let word = arguments[index]
            if let next = spec.subcommand(named: word) {
                spec = next
                path.append(word)
                index += 1
                continue
            }
            if Self.asksForHelp(arguments[index...]) {
                return .help(command: path, text: help(for: path))
            }
            if word.hasPrefix("-") {
                throw UsageError("expected a command before '\(word)'", command: names)
            }
            throw UsageError("unknown command '\(word)'", command: names)
        }

        let rest = Array(arguments[index...])
        if Self.asksForHelp(rest[...]) {
            return .help(command: path, text: help(for: path))
        }
        return .arguments(try parseLeaf(spec, path: path, arguments: rest))
    }

    /// Whether `-h` or `--help` appears before any `--`.
    private static func asksForHelp(_ arguments: ArraySlice<String>) -> Bool {
        arguments.prefix { $0 != "--" }.contains { $0 == "--help" || $0 == "-h" }
    }

    private func parseLeaf(_ spec: CommandSpec, path: [String], arguments: [String]) throws(UsageError) -> ParsedArguments {
        let names = [root.name] + path
        var parsed = ParsedArguments(command: path)
        var index = 0
        var optionsEnded = false

        func takeValue(_ option: OptionSpec, inline: String?, spelled: String) throws(UsageError) -> String {
            guard case .value(let placeholder) = option.kind else {
                if inline != nil { throw UsageError("option '\(spelled)' takes no value", command: names) }
                return ""
            }
            if let inline {
                guard !inline.isEmpty else { throw UsageError("option '\(spelled)' needs a value (\(placeholder))", command: names) }
                return inline
            }
            guard index + 1 < arguments.count, !arguments[index + 1].hasPrefix("--") else {
                throw UsageError("option '\(spelled)' needs a value (\(placeholder))", command: names)
            }
            index += 1
            return arguments[index]
        }

        func record(_ option: OptionSpec, inline: String?, spelled: String) throws(UsageError) {
            let value = try takeValue(option, inline: inline, spelled: spelled)
            switch option.kind {
            case .flag: parsed.flags.insert(option.name)
            case .value: parsed.values[option.name] = value
            }
        }

        while index < arguments.count {
            let argument = arguments[index]
            if optionsEnded {
                parsed.positionals.append(argument)
            } else if argument == "--" {
                optionsEnded = true
            } else if argument.hasPrefix("--") {
                let body = argument.dropFirst(2)
                let name: String
                let inline: String?
                if let equals = body.firstIndex(of: "=") {
                    name = String(body[..<equals])
                    inline = String(body[body.index(after: equals)...])
                } else {
                    name = String(body)
                    inline = nil
                }
                guard let option = spec.option(named: name) else {
                    throw UsageError("unknown option '--\(name)'", command: names)
                }
                try record(option, inline: inline, spelled: "--\(name)")
            } else if argument.hasPrefix("-"), argument.count > 1 {
                let letters = argument.dropFirst()
                guard letters.count == 1, let option = spec.option(short: letters.first!) else {
                    throw UsageError("unknown option '\(argument)'", command: names)
                }
                try record(option, inline: nil, spelled: argument)
            } else {
                parsed.positionals.append(argument)
            }
            index += 1
        }

        let required = spec.positionals.filter(\.required).count
        if parsed.positionals.count < required {
            let missing = spec.positionals[parsed.positionals.count]
            throw UsageError("missing argument \(missing.name)", command: names)
        }
        if parsed.positionals.count > spec.positionals.count {
            throw UsageError("unexpected argument '\(parsed.positionals[spec.positionals.count])'", command: names)
        }
        return parsed
    }

    /// The command at `path` (names after the program name), if any.
    public func command(at path: [String]) -> CommandSpec? {
        var spec = root
        for name in path {
            guard let next = spec.subcommand(named: name) else { return nil }
            spec = next
        }
        return spec
    }

    /// The help text of the command at `path`.
    public func help(for path: [String]) -> String {
        guard let spec = command(at: path) else { return HelpFormatter.help(for: root, path: [root.name]) }
        return HelpFormatter.help(for: spec, path: [root.name] + path)
    }
}
