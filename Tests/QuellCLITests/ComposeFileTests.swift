import Foundation
import Glibc
import Testing
import QuellCLI

/// docker-compose.yml, Dockerfile and .dockerignore refer only to things that
/// exist: `quell` commands and `QUELL_*` settings the code reads, Dockerfile
/// stages, a Package.swift product, files to copy. No container engine is
/// needed: compose 1.29.2's `docker-compose config` validates and normalizes
/// the file offline, and its output is read here (NormalizedYAML.swift).
/// Without `docker-compose` (apt-get install -y --no-install-recommends
/// docker-compose; scripts/test does it) these tests fail, they do not skip.
@Suite struct ComposeFileTests {
    /// Tests/QuellCLITests/ComposeFileTests.swift → the package root.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let quellServices = ["api", "worker", "monitor"]
    /// What the host passes through (the admin token is required; see adminTokenIsRequired).
    static let hostEnvironment = ["QUELL_ADMIN_TOKEN": "compose-admin", "QUELL_TOKENS": "compose-t1=acme,compose-t2=globex"]
    static let settingVariables = Set(Setting.all.map(\.environment))

    // MARK: - docker-compose config

    @Test func composeConfigValidates() async throws {
        let run = try await Self.compose(["config", "-q"], environment: Self.hostEnvironment)
        #expect(run.code == 0, "docker-compose config -q: \(run)")
    }

    @Test func adminTokenIsRequired() async throws {
        let run = try await Self.compose(["config", "-q"], environment: ["QUELL_TOKENS": "t=acme"])
        #expect(run.code != 0, "config without QUELL_ADMIN_TOKEN must fail: \(run)")
        #expect(run.stderr.contains("set QUELL_ADMIN_TOKEN"), "the error names the variable: \(run)")
    }

    @Test func servicesAreRedisAndTheThreeProcesses() async throws {
        let config = try await Self.config()
        #expect(Set(config["services"]?.keys ?? []) == ["redis", "api", "worker", "monitor"])
        let profiles = try await Self.compose(["config", "--profiles"], environment: Self.hostEnvironment)
        #expect(profiles.stdout.split(separator: "\n") == ["monitor"], "only the monitor is behind a profile: \(profiles)")
    }

    /// Each Quell service runs a real subcommand that parses, with the
    /// service's own environment, as that command; every variable is a setting.
    @Test(arguments: quellServices)
    func serviceRunsARealQuellCommand(_ name: String) async throws {
        let service = try #require(try await Self.config()["services"]?[name], "no service \(name)")
        let command = try #require(service["command"]?.strings, "\(name): no command")
        let subcommands = QuellCommandLine.root.subcommands.map(\.name)
        #expect(command.first == name, "\(name) runs `quell \(name)`")
        #expect(subcommands.contains(command.first ?? ""), "\(name): `quell \(command.first ?? "")` is not one of \(subcommands)")

        let environment = try Self.environment(service, name)
        for variable in environment.keys {
            #expect(Self.settingVariables.contains(variable), "\(name): \(variable) is not a setting Quell reads (Setting.all)")
        }
        let parsed = try QuellCommandLine.parse(command, environment: environment)
        let redisURL: String
        switch (name, parsed) {
        case ("api", .api(let o)): redisURL = o.redis.url
        case ("worker", .worker(let o)): redisURL = o.redis.url
        case ("monitor", .monitor(let o)): redisURL = o.redis.url
        default: Issue.record("\(name): \(command) parses as \(parsed)"); return
        }
        #expect(environment["QUELL_REDIS_URL"] != nil, "\(name): QUELL_REDIS_URL is set, not the 127.0.0.1 default")
        // redis://HOST:PORT/DB names the redis service, which this service waits for.
        let host = redisURL.dropFirst("redis://".count).prefix { $0 != ":" && $0 != "/" }
        #expect(redisURL.hasPrefix("redis://") && host == "redis", "\(name): \(redisURL)")
        #expect(service["depends_on"]?["redis"]?["condition"]?.string == "service_healthy", "\(name) waits for a healthy redis")
    }

    /// Every service built here builds a stage the Dockerfile defines, from the repository.
    @Test(arguments: quellServices)
    func serviceBuildsADockerfileStage(_ name: String) async throws {
        let service = try #require(try await Self.config()["services"]?[name])
        let build = try #require(service["build"], "\(name): no build")
        let dockerfile = try Self.dockerfile()
        let target = try #require(build["target"]?.string, "\(name): no build.target")
        #expect(dockerfile.stage(named: target) != nil,
                "\(name): build.target \(target) is not a stage of the Dockerfile (\(dockerfile.stages.compactMap(\.name)))")
        let context = URL(fileURLWithPath: build["context"]?.string ?? "").standardizedFileURL.path
        #expect(context == Self.root.standardizedFileURL.path, "\(name): build.context \(context)")
        #expect((build["dockerfile"]?.string ?? "Dockerfile") == "Dockerfile")
        // The stage's ENTRYPOINT is a file that stage copies in: the binary the command is given to.
        let stage = try #require(dockerfile.stage(named: target))
        let entrypoint = try #require(stage.entrypoint?.first, "stage \(target) has no exec-form ENTRYPOINT")
        #expect(try stage.copies.contains { $0.destination == entrypoint }, "ENTRYPOINT \(entrypoint) is not copied into \(target)")
    }

    @Test func apiListensOnThePublishedPortWithTokens() async throws {
        let service = try #require(try await Self.config()["services"]?["api"])
        guard case .api(let o) = try QuellCommandLine.parse(try #require(service["command"]?.strings),
                                                             environment: try Self.environment(service, "api")) else {
            Issue.record("api does not parse as quell api"); return
        }
        #expect(o.host == "0.0.0.0", "reachable from outside its container")
        let ports = try #require(service["ports"]?.items, "api publishes no port")
        #expect(ports.contains { $0["target"]?.string == String(o.port) },
                "a published port targets the one quell api listens on (\(o.port)): \(ports)")
        #expect(o.adminToken == "compose-admin" && o.tokens == ["compose-t1": "acme", "compose-t2": "globex"],
                "tokens come from the host environment")
        #expect(!o.noAuth)
    }

    @Test func workerScales() async throws {
        let service = try #require(try await Self.config()["services"]?["worker"])
        for fixed in ["container_name", "ports", "hostname"] {
            #expect(service[fixed] == nil, "worker has \(fixed): `--scale worker=4` needs it unset")
        }
        guard case .worker(let o) = try QuellCommandLine.parse(try #require(service["command"]?.strings),
                                                                environment: try Self.environment(service, "worker")) else {
            Issue.record("worker does not parse as quell worker"); return
        }
        // Unset pass-through variables come through empty and leave Quell's defaults.
        #expect(o.queues == ["default"] && o.concurrency == 4)
        let grace = try #require(service["stop_grace_period"]?.string, "worker: no stop_grace_period")
        let seconds = try #require(Double(grace.hasSuffix("s") ? String(grace.dropLast()) : grace), "stop_grace_period \(grace)")
        #expect(seconds > o.shutdownGraceSeconds, "SIGKILL (after \(grace)) comes after the worker's shutdown grace")
    }

    @Test func monitorIsAnInteractiveProfile() async throws {
        let service = try #require(try await Self.config()["services"]?["monitor"])
        #expect(service["profiles"]?.strings == ["monitor"])
        #expect(service["tty"]?.string == "true" && service["stdin_open"]?.string == "true")
    }

    @Test func redisKeepsItsDataAndReportsHealth() async throws {
        let config = try await Self.config()
        let service = try #require(config["services"]?["redis"])
        let image = service["image"]?.string ?? ""
        #expect(image == "redis:7" || image.hasPrefix("redis:7."), "image \(image)")
        let command = (service["command"]?.strings ?? []).joined(separator: " ")
        #expect(command.contains("--appendonly yes"), "command \(command)")
        let check = (service["healthcheck"]?["test"]?.strings ?? []).joined(separator: " ")
        #expect(check.contains("redis-cli") && check.contains("ping"), "healthcheck \(check)")
        let volumes = service["volumes"]?.strings ?? []
        let named = volumes.compactMap { v in v.split(separator: ":").count >= 2 && v.split(separator: ":")[1] == "/data"
            ? String(v.split(separator: ":")[0]) : nil }
        #expect(named.count == 1 && config["volumes"]?.keys.contains(named[0]) == true,
                "a named top-level volume on /data: \(volumes), volumes \(config["volumes"]?.keys ?? [])")
    }

    /// `${QUELL_…}` references in the file (outside comments) name settings Quell reads (a typo would pass compose silently).
    @Test func interpolatedQuellVariablesAreSettings() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("docker-compose.yml"), encoding: .utf8)
            .split(separator: "\n").filter { !$0.drop { $0 == " " }.hasPrefix("#") }.joined(separator: "\n")
        let names = text.matches(of: try Regex(#"\$\{([A-Za-z_][A-Za-z0-9_]*)"#)).compactMap { $0.output[1].substring.map(String.init) }
        #expect(!names.isEmpty)
        for name in names where name.hasPrefix("QUELL_") {
            #expect(Self.settingVariables.contains(name), "${\(name)} is not a setting Quell reads (Setting.all)")
        }
    }

    // MARK: - Dockerfile

    /// The build stage builds an executable product of Package.swift, with
    /// the flags of scripts/lib.sh's release build.
    @Test func dockerfileBuildsAPackageProduct() throws {
        let dockerfile = try Self.dockerfile()
        let builds = dockerfile.stages.flatMap { stage in stage.runs.compactMap { run in Self.swiftBuild(in: run) } }
        #expect(builds.count == 1, "one `swift build` in the Dockerfile: \(builds)")
        let build = try #require(builds.first)
        let manifest = try String(contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let products = manifest.matches(of: try Regex(#"\.executable\(\s*name:\s*"([^"]+)""#))
            .compactMap { $0.output[1].substring.map(String.init) }
        #expect(products.contains("quell"))
        let product = Self.options(build)["--product"]
        #expect(product == "quell" && products.contains(product ?? ""), "--product \(product ?? "none") of \(products)")

        let script = try String(contentsOf: Self.root.appendingPathComponent("scripts/lib.sh"), encoding: .utf8)
            .replacingOccurrences(of: "\\\n", with: " ")
        let release = try #require(script.split(separator: "\n").lazy.compactMap { Self.swiftBuild(in: String($0)) }.first,
                                   "no swift build in scripts/lib.sh")
        var expected = Self.options(release)
        expected["--product"] = nil   // lib.sh builds the product it is given
        let got = Self.options(build)
        for (flag, value) in expected {
            #expect(got[flag] == value, "the Dockerfile builds with \(flag) \(value) like scripts/lib.sh: \(build)")
        }
    }

    /// Files copied from the build context exist and are not excluded by
    /// .dockerignore; stages copied from are defined before.
    @Test func dockerfileCopiesWhatExists() throws {
        let dockerfile = try Self.dockerfile()
        let ignore = try String(contentsOf: Self.root.appendingPathComponent(".dockerignore"), encoding: .utf8)
        var seen: Set<String> = []
        var copied = 0
        for stage in dockerfile.stages {
            for copy in try stage.copies {
                if let from = copy.from {
                    #expect(seen.contains(from), "line \(copy.line): COPY --from=\(from): no earlier stage \(from)")
                    continue
                }
                for source in copy.sources {
                    copied += 1
                    let path = source.hasPrefix("./") ? String(source.dropFirst(2)) : source
                    #expect(FileManager.default.fileExists(atPath: Self.root.appendingPathComponent(path).path),
                            "line \(copy.line): COPY \(source): no such file in the repository")
                    #expect(!Self.dockerIgnores(ignore, path), "line \(copy.line): COPY \(source) is excluded by .dockerignore")
                }
            }
            if let name = stage.name { seen.insert(name) }
        }
        #expect(copied > 0)
        for local in [".build", ".build-release", ".git", "fuzz/corpus"] {
            #expect(Self.dockerIgnores(ignore, local), ".dockerignore keeps \(local) out of the build context")
        }
    }

    // MARK: - Helpers

    /// The normalized configuration, read once (with `hostEnvironment`).
    static func config() async throws -> YAMLValue { try await loaded.value }

    private static let loaded = Task<YAMLValue, any Error> {
        let run = try await compose(["config"], environment: hostEnvironment)
        guard run.code == 0 else { throw ComposeFailure(message: "docker-compose config failed: \(run)") }
        return try NormalizedYAMLReader.parse(run.stdout)
    }

    /// Runs docker-compose on the repository's file: only `environment` and
    /// the machine's non-`QUELL_` variables count (an empty env file stands
    /// in for a developer's `.env`).
    static func compose(_ arguments: [String], environment: [String: String]) async throws -> QuellRun {
        let path = try dockerCompose()
        let envFile = FileManager.default.temporaryDirectory.appendingPathComponent("quell-compose-\(UUID().uuidString).env")
        try Data().write(to: envFile)
        defer { try? FileManager.default.removeItem(at: envFile) }
        return try await runProcess(path, ["--env-file", envFile.path, "--project-directory", root.path,
                                           "-f", root.appendingPathComponent("docker-compose.yml").path] + arguments,
                                    environment: environment, timeout: 60)
    }

    static func dockerCompose() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/docker-compose"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw ComposeFailure(message: "docker-compose is not installed, so docker-compose.yml cannot be checked: "
            + "apt-get install -y --no-install-recommends docker-compose (bash scripts/test installs it)")
    }

    /// A service's environment as strings (compose prints a mapping).
    static func environment(_ service: YAMLValue, _ name: String) throws -> [String: String] {
        guard case .mapping(let entries) = service["environment"] ?? .mapping([]) else {
            throw ComposeFailure(message: "\(name): environment is not a mapping")
        }
        var environment: [String: String] = [:]
        for (key, value) in entries {
            guard let string = value.string else { throw ComposeFailure(message: "\(name): \(key) is not a string") }
            environment[key] = string
        }
        return environment
    }

    static func dockerfile() throws -> Dockerfile {
        try Dockerfile(String(contentsOf: root.appendingPathComponent("Dockerfile"), encoding: .utf8))
    }

    /// The words of the `swift build …` command in a shell line, up to the
    /// first shell operator or redirection; nil when it has none.
    static func swiftBuild(in line: String) -> [String]? {
        let words = shellWords(line.replacingOccurrences(of: "$(", with: " ").replacingOccurrences(of: ")", with: " "))
        guard let start = words.indices.first(where: { $0 + 1 < words.count && words[$0] == "swift" && words[$0 + 1] == "build" })
        else { return nil }
        let stops: Set<String> = ["&&", "||", ";", "|"]
        return Array(words[(start + 2)...].prefix { !stops.contains($0) && !$0.contains(">") })
    }

    /// `swift build` options as flag → value (flags without a value map to "").
    static func options(_ words: [String]) -> [String: String] {
        let takesValue: Set<String> = ["-c", "--configuration", "--scratch-path", "--product", "--target", "-Xswiftc",
                                       "-Xcc", "-Xlinker", "-Xcxx", "--triple", "--swift-sdk", "-j", "--jobs"]
        var options: [String: String] = [:]
        var i = 0
        while i < words.count {
            if takesValue.contains(words[i]), i + 1 < words.count {
                // -Xswiftc may repeat: keep each value under its own key.
                let key = words[i].hasPrefix("-X") ? "\(words[i]) \(words[i + 1])" : words[i]
                options[key] = words[i + 1]
                i += 2
            } else {
                options[words[i]] = ""
                i += 1
            }
        }
        return options
    }

    /// Whether .dockerignore leaves `path` (or a folder holding it) out: the
    /// last matching pattern wins, `!` re-includes.
    static func dockerIgnores(_ ignore: String, _ path: String) -> Bool {
        let patterns = ignore.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        let components = path.split(separator: "/")
        let prefixes = components.indices.map { components[...$0].joined(separator: "/") }
        var ignored = false
        for pattern in patterns {
            let negated = pattern.hasPrefix("!")
            var body = negated ? String(pattern.dropFirst()) : pattern
            while body.hasPrefix("/") { body.removeFirst() }
            if body.hasSuffix("/") { body.removeLast() }
            if prefixes.contains(where: { fnmatch(body, $0, FNM_PATHNAME) == 0 }) { ignored = !negated }
        }
        return ignored
    }
}

struct ComposeFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// The reader of compose's normalized output, on the shapes PyYAML prints.
@Suite struct NormalizedYAMLReaderTests {
    @Test func blockStyle() throws {
        let value = try NormalizedYAMLReader.parse("""
            services:
              api:
                command:
                - api
                - --port
                - '8080'
                environment:
                  A: ''
                  B: "x \\"y\\""
                  C: it''s
                ports:
                - published: 8080
                  target: 8080
                - target: 9090
                tty: true
            volumes:
              data: {}
            empty: []

            """)
        let api = try #require(value["services"]?["api"])
        #expect(api["command"]?.strings == ["api", "--port", "8080"])
        #expect(api["environment"]?["A"]?.string == "" && api["environment"]?["B"]?.string == "x \"y\"")
        #expect(api["environment"]?["C"]?.string == "it''s", "'' is an escape only inside quotes")
        #expect(api["ports"]?.items?.count == 2 && api["ports"]?.items?[0]["target"]?.string == "8080")
        #expect(api["ports"]?.items?[1]["target"]?.string == "9090" && api["tty"]?.string == "true")
        #expect(value["volumes"]?["data"] == .mapping([]) && value["empty"] == .sequence([]))
        #expect(value.keys == ["services", "volumes", "empty"])
    }

    @Test func longScalarsContinueOnDeeperLines() throws {
        let value = try NormalizedYAMLReader.parse("""
            a:
              test: one two
                three
              list:
              - 'quoted
                folded'
            """)
        #expect(value["a"]?["test"]?.string == "one two three")
        #expect(value["a"]?["list"]?.strings == ["quoted folded"])
    }

    @Test(arguments: ["a: &x 1", "a: *x", "a: |\n  text", "a: [1, 2]", "a: 'open", "a: 1\n a: 2", "a: 1\na: 2", "\ta: 1"])
    func unsupportedIsAnError(_ text: String) {
        #expect(throws: YAMLError.self, "\(text)") { try NormalizedYAMLReader.parse(text) }
    }
}
