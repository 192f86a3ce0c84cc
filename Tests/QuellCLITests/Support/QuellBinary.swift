import QuellTestSupport
import Foundation
import Testing

/// The built `quell` executable, run as a child process by the command tests.
///
/// Found at `QUELL_BINARY`, else beside this test bundle (SwiftPM puts every
/// product of a build in one directory: `swift build --build-tests` builds
/// it), else in `.build*/debug/quell` under the package root.
enum QuellBinary {
    static let path: String? = {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["QUELL_BINARY"], !path.isEmpty { return path }
        let fm = FileManager.default
        var candidates: [String] = []
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        candidates.append(bundle.appendingPathComponent("quell").path)
        // Tests/QuellCLITests/Support/QuellBinary.swift → the package root.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let builds = ((try? fm.contentsOfDirectory(atPath: root.path)) ?? []).filter { $0.hasPrefix(".build") }.sorted()
        for build in builds {
            candidates.append(root.appendingPathComponent(build).appendingPathComponent("debug/quell").path)
        }
        return candidates.first { fm.isExecutableFile(atPath: $0) }
    }()

    /// The path, or a recorded failure saying how to build it.
    static func require() throws -> String {
        guard let path else {
            throw QuellBinaryMissing()
        }
        return path
    }
}

struct QuellBinaryMissing: Error, CustomStringConvertible {
    var description: String { "no quell binary: build it first (swift build --build-tests) or set QUELL_BINARY" }
}

/// What one run of `quell` printed and how it exited.
struct QuellRun: Sendable, CustomStringConvertible {
    var code: Int32
    var stdout: String
    var stderr: String

    /// The standard error lines (without empty ones).
    var errorLines: [Substring] { stderr.split(separator: "\n") }

    var description: String { "exit \(code)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

/// Runs `quell arguments…` to completion (at most `timeout` seconds) with
/// standard output and error captured. `QUELL_*` variables of the test
/// process are not passed on, so only the arguments and `environment` count.
func runQuell(_ arguments: [String], environment: [String: String] = [:], timeout: Double = 30) async throws -> QuellRun {
    try await runProcess(try QuellBinary.require(), arguments, environment: environment, timeout: timeout)
}

/// Runs a program to completion with its output captured (see `runQuell`).
func runProcess(_ path: String, _ arguments: [String], environment: [String: String] = [:],
                timeout: Double = 30) async throws -> QuellRun {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quell-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let out = directory.appendingPathComponent("stdout").path
    let err = directory.appendingPathComponent("stderr").path
    var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("QUELL_") && $0.key != "NO_COLOR" }
    env.merge(environment) { $1 }
    let child = try ChildProcess(path, arguments, environment: env, outputPath: out, errorPath: err)
    guard let code = await child.exitCode(timeout: timeout) else {
        child.stop()
        throw QuellTimeout(arguments: [path] + arguments)
    }
    let stdout = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
    let stderr = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
    return QuellRun(code: code, stdout: stdout, stderr: stderr)
}

struct QuellTimeout: Error, CustomStringConvertible {
    var arguments: [String]
    var description: String { "\(arguments.joined(separator: " ")) did not exit in time" }
}
