import Testing
@testable import QuellCLI

/// The generic parser over a small made-up command tree.
@Suite struct ArgumentParserTests {
    let parser = ArgumentParser(root: CommandSpec(
        name: "tool",
        summary: "A tool.",
        subcommands: [
            CommandSpec(
                name: "run",
                summary: "Run it.",
                options: [
                    .value("port", placeholder: "PORT", help: "port", environment: "TOOL_PORT", defaultValue: "80"),
                    .value("name", placeholder: "NAME", help: "name"),
                    .flag("once", help: "once"),
                    OptionSpec(name: "count", short: "c", kind: .value(placeholder: "N"), help: "count"),
                ],
                positionals: [
                    PositionalSpec(name: "FIRST", help: "first"),
                    PositionalSpec(name: "SECOND", help: "second", required: false),
                ]
            ),
            CommandSpec(name: "group", summary: "A group.", subcommands: [
                CommandSpec(name: "leaf", summary: "A leaf."),
            ]),
        ]
    ))

    private func arguments(_ input: [String]) throws -> ParsedArguments {
        guard case .arguments(let parsed) = try parser.parse(input) else {
            Issue.record("expected arguments for \(input)")
            return ParsedArguments(command: [])
        }
        return parsed
    }

    private func usageError(_ input: [String]) -> UsageError? {
        do {
            _ = try parser.parse(input)
            Issue.record("expected a usage error for \(input)")
            return nil
        } catch {
            return error
        }
    }

    @Test func valuesInBothFormsFlagsAndPositionals() throws {
        let parsed = try arguments(["run", "--port", "8080", "a", "--name=x=y", "--once", "b", "-c", "3"])
        #expect(parsed.command == ["run"])
        #expect(parsed.values == ["port": "8080", "name": "x=y", "count": "3"])
        #expect(parsed.flags == ["once"])
        #expect(parsed.positionals == ["a", "b"])
    }

    @Test func lastValueWinsAndOptionalPositionalMayBeAbsent() throws {
        let parsed = try arguments(["run", "--port=1", "--port", "2", "a"])
        #expect(parsed.values["port"] == "2")
        #expect(parsed.positionals == ["a"])
    }

    @Test func doubleDashEndsOptions() throws {
        let parsed = try arguments(["run", "--", "--once", "-h"])
        #expect(parsed.positionals == ["--once", "-h"])
        #expect(parsed.flags.isEmpty)
    }

    @Test func valuesMayStartWithASingleDash() throws {
        #expect(try arguments(["run", "a", "--name", "-x"]).values["name"] == "-x")
        #expect(try arguments(["run", "a", "--name=--x"]).values["name"] == "--x")
    }

    @Test func nestedCommands() throws {
        #expect(try arguments(["group", "leaf"]).command == ["group", "leaf"])
    }

    @Test func helpAnywhereWinsEvenOverErrors() throws {
        #expect(try parser.parse(["--help"]) == .help(command: [], text: parser.help(for: [])))
        #expect(try parser.parse(["-h"]) == .help(command: [], text: parser.help(for: [])))
        #expect(try parser.parse(["run", "--bogus", "-h"]) == .help(command: ["run"], text: parser.help(for: ["run"])))
        #expect(try parser.parse(["group", "--help"]) == .help(command: ["group"], text: parser.help(for: ["group"])))
        #expect(try parser.parse(["group", "leaf", "--help"]) == .help(command: ["group", "leaf"], text: parser.help(for: ["group", "leaf"])))
        #expect(try parser.parse(["nope", "--help"]) == .help(command: [], text: parser.help(for: [])))
    }

    @Test func helpTextListsOptionsDefaultsAndEnvironment() {
        let help = parser.help(for: ["run"])
        #expect(help == """
            Usage: tool run FIRST [SECOND] [options]

            Run it.

            Arguments:
              FIRST   first
              SECOND  second

            Options:
              --port PORT    port [env TOOL_PORT, default 80]
              --name NAME    name
              --once         once
              -c, --count N  count
              -h, --help     show this help

            """)
    }

    @Test func usageErrors() {
        #expect(usageError([])?.message == "missing command: one of run, group")
        #expect(usageError(["nope"])?.message == "unknown command 'nope'")
        #expect(usageError(["--once"])?.message == "expected a command before '--once'")
        #expect(usageError(["group"])?.message == "missing command: one of leaf")
        #expect(usageError(["run", "a", "--bogus"])?.message == "unknown option '--bogus'")
        #expect(usageError(["run", "a", "-x"])?.message == "unknown option '-x'")
        #expect(usageError(["run", "a", "-cc"])?.message == "unknown option '-cc'")
        #expect(usageError(["run", "a", "--port"])?.message == "option '--port' needs a value (PORT)")
        #expect(usageError(["run", "a", "--port", "--once"])?.message == "option '--port' needs a value (PORT)")
        #expect(usageError(["run", "a", "--port="])?.message == "option '--port' needs a value (PORT)")
        #expect(usageError(["run", "a", "--once=yes"])?.message == "option '--once' takes no value")
        #expect(usageError(["run"])?.message == "missing argument FIRST")
        #expect(usageError(["run", "a", "b", "c"])?.message == "unexpected argument 'c'")
        #expect(usageError(["group", "leaf", "extra"])?.message == "unexpected argument 'extra'")
    }

    @Test func usageErrorIsOneLineWithExitCodeTwo() {
        let error = usageError(["run", "a", "--bogus"])
        #expect(error?.command == ["tool", "run"])
        #expect(error?.exitCode == 2)
        #expect(error?.description == "tool run: unknown option '--bogus' (see 'tool run --help')")
        #expect(error?.description.contains("\n") == false)
    }

    @Test func resolverFallsBackFromFlagToEnvironmentToDefault() throws {
        let spec = parser.command(at: ["run"])!
        func resolver(_ input: [String], _ environment: [String: String]) throws -> OptionResolver {
            OptionResolver(arguments: try arguments(input), spec: spec, environment: environment, command: ["tool", "run"])
        }
        #expect(try resolver(["run", "a", "--port", "1"], ["TOOL_PORT": "2"]).raw("port")! == ("1", .commandLine("--port")))
        #expect(try resolver(["run", "a"], ["TOOL_PORT": "2"]).raw("port")! == ("2", .environment("TOOL_PORT")))
        #expect(try resolver(["run", "a"], ["TOOL_PORT": ""]).raw("port")! == ("80", .defaultValue))
        #expect(try resolver(["run", "a"], [:]).raw("port")! == ("80", .defaultValue))
        #expect(try resolver(["run", "a"], [:]).raw("name") == nil)
    }

    @Test func resolverTypedValues() throws {
        let spec = parser.command(at: ["run"])!
        let r = OptionResolver(arguments: try arguments(["run", "a"]), spec: spec, environment: [:], command: ["tool", "run"])
        #expect(try r.integer(("42", .defaultValue), in: 0...100) == 42)
        #expect(throws: UsageError.self) { try r.integer(("4.5", .commandLine("--n")), in: 0...100) }
        #expect(throws: UsageError.self) { try r.integer(("101", .commandLine("--n")), in: 0...100) }
        #expect(try r.seconds(("0.2", .defaultValue)) == 0.2)
        #expect(try r.seconds(("0", .defaultValue)) == 0)
        #expect(throws: UsageError.self) { try r.seconds(("0", .defaultValue), positive: true) }
        #expect(throws: UsageError.self) { try r.seconds(("-1", .defaultValue)) }
        #expect(throws: UsageError.self) { try r.seconds(("nan", .defaultValue)) }
        #expect(throws: UsageError.self) { try r.seconds(("inf", .defaultValue)) }
        #expect(throws: UsageError.self) { try r.seconds(("2s", .defaultValue)) }
        #expect(try r.boolean(("yes", .defaultValue)))
        #expect(try !r.boolean(("0", .defaultValue)))
        #expect(throws: UsageError.self) { try r.boolean(("maybe", .defaultValue)) }
        #expect(try r.list((" a, b ", .defaultValue)) == ["a", "b"])
        #expect(throws: UsageError.self) { try r.list(("a,,b", .defaultValue)) }
        #expect(try r.jsonObject((#"{"a": 1}"#, .defaultValue)) == #"{"a": 1}"#)
        #expect(throws: UsageError.self) { try r.jsonObject(("[1]", .defaultValue)) }
        #expect(throws: UsageError.self) { try r.jsonObject(("{", .defaultValue)) }
    }
}
