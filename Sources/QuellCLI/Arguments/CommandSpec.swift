/// A command-line option of one command: `--name VALUE`, `--name=VALUE`, or
/// a boolean `--name`. Options are declared per command; nothing is implicit
/// except `-h`/`--help`, which every command accepts.
public struct OptionSpec: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A boolean flag: present or absent, never takes a value.
        case flag
        /// Takes one value; `placeholder` names it in help (`URL`, `N`, `SECONDS`).
        case value(placeholder: String)
    }

    /// The long name without dashes: `redis` is `--redis`.
    public var name: String
    /// An optional one-letter form: `c` is `-c`.
    public var short: Character?
    public var kind: Kind
    public var help: String
    /// Environment variable used when the option is not on the command line.
    public var environment: String?
    /// Value used when neither the command line nor the environment has one.
    public var defaultValue: String?

    public init(name: String, short: Character? = nil, kind: Kind, help: String,
                environment: String? = nil, defaultValue: String? = nil) {
        self.name = name
        self.short = short
        self.kind = kind
        self.help = help
        self.environment = environment
        self.defaultValue = defaultValue
    }

    public static func flag(_ name: String, help: String, environment: String? = nil) -> OptionSpec {
        OptionSpec(name: name, kind: .flag, help: help, environment: environment)
    }

    public static func value(_ name: String, placeholder: String, help: String,
                             environment: String? = nil, defaultValue: String? = nil) -> OptionSpec {
        OptionSpec(name: name, kind: .value(placeholder: placeholder), help: help,
                   environment: environment, defaultValue: defaultValue)
    }

    /// An option for a configuration setting: its flag, environment variable
    /// and default come from the setting.
    public static func setting(_ setting: Setting, help: String? = nil) -> OptionSpec {
        precondition(setting.flag != nil, "setting \(setting.environment) has no flag")
        let kind: Kind = setting.placeholder.map { .value(placeholder: $0) } ?? .flag
        return OptionSpec(name: setting.flag!, kind: kind, help: help ?? setting.summary,
                          environment: setting.environment, defaultValue: setting.defaultValue)
    }

    /// `--name VALUE` or `--name`, as shown in help.
    public var synopsis: String {
        var text = short.map { "-\($0), " } ?? ""
        text += "--\(name)"
        if case .value(let placeholder) = kind { text += " \(placeholder)" }
        return text
    }
}

/// A positional argument, e.g. the `ID` of `quell jobs show ID`.
public struct PositionalSpec: Sendable, Equatable {
    public var name: String
    public var help: String
    public var required: Bool

    public init(name: String, help: String, required: Bool = true) {
        self.name = name
        self.help = help
        self.required = required
    }
}

/// A command: either a group of subcommands (`quell`, `quell jobs`) or a
/// leaf with options and positionals (`quell worker`, `quell jobs cancel`).
public struct CommandSpec: Sendable, Equatable {
    public var name: String
    /// One line, shown in the parent's command list and under the usage line.
    public var summary: String
    /// Extra paragraphs shown under the summary in this command's help.
    public var discussion: String?
    /// Paragraphs shown at the end of this command's help.
    public var epilogue: String?
    public var options: [OptionSpec]
    public var positionals: [PositionalSpec]
    public var subcommands: [CommandSpec]

    public init(name: String, summary: String, discussion: String? = nil, epilogue: String? = nil,
                options: [OptionSpec] = [], positionals: [PositionalSpec] = [], subcommands: [CommandSpec] = []) {
        self.name = name
        self.summary = summary
        self.discussion = discussion
        self.epilogue = epilogue
        self.options = options
        self.positionals = positionals
        self.subcommands = subcommands
    }

    public func option(named name: String) -> OptionSpec? { options.first { $0.name == name } }

    public func option(short: Character) -> OptionSpec? { options.first { $0.short == short } }

    public func subcommand(named name: String) -> CommandSpec? { subcommands.first { $0.name == name } }
}
