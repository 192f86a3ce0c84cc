import Foundation

/// A tmux server of one test's own (a private socket, no user config), for
/// running a full-screen program in a detached session of a fixed size,
/// reading its screen and typing into it.
struct Tmux: Sendable {
    static let binary = ["/usr/bin/tmux", "/usr/local/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// The server's socket, in a temporary file of this test's own (removed by `kill`).
    let socket: String
    let session = "main"

    init(_ name: String) {
        socket = FileManager.default.temporaryDirectory
            .appendingPathComponent("quell-tmux-\(name)-\(UInt32.random(in: 0...UInt32.max))").path
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `tmux -S socket -f /dev/null -u ARGS`; throws unless it exits 0.
    @discardableResult
    func run(_ arguments: [String]) async throws -> String {
        guard let binary = Self.binary else { throw Failure(description: "tmux is not installed (apt-get install tmux)") }
        let result = try await runProcess(binary, ["-S", socket, "-f", "/dev/null", "-u"] + arguments,
                                          environment: ["LC_ALL": "C.UTF-8", "TMUX": ""], timeout: 10)
        guard result.code == 0 else {
            throw Failure(description: "tmux \(arguments.joined(separator: " ")): \(result)")
        }
        return result.stdout
    }

    /// A detached session `width`×`height` running `command`; the pane stays
    /// after the command exits, so its exit status can be read. What the
    /// command writes to the terminal is also appended to `outputLog`.
    func start(width: Int, height: Int, command: [String], outputLog: String? = nil) async throws {
        var arguments = ["new-session", "-d", "-s", session, "-x", String(width), "-y", String(height), "--"] + command
            + [";", "set-option", "-t", session, "remain-on-exit", "on"]
        if let outputLog { arguments += [";", "pipe-pane", "-t", session, "-o", "cat >> '\(outputLog)'"] }
        try await run(arguments)
    }

    /// The visible screen, one line per row, trailing spaces trimmed.
    func capture() async throws -> String {
        var screen = try await run(["capture-pane", "-p", "-t", session])
        if screen.hasSuffix("\n") { screen.removeLast() }
        return screen
    }

    /// Polls the screen until `condition` holds; throws with the last screen after `timeout`.
    func waitForScreen(timeout: Double = 60, _ what: String, _ condition: (String) -> Bool) async throws -> String {
        let end = Date().addingTimeInterval(timeout)
        var screen = ""
        while Date() < end {
            screen = try await capture()
            if condition(screen) { return screen }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Failure(description: "timed out waiting for \(what); the screen:\n\(screen)")
    }

    /// Types keys (tmux key names: `c`, `y`, `Down`, `C-c`).
    func sendKeys(_ keys: String...) async throws {
        try await run(["send-keys", "-t", session] + keys)
    }

    /// A tmux format about the pane, e.g. `#{pane_dead} #{alternate_on}`.
    func pane(_ format: String) async throws -> String {
        try await run(["display-message", "-p", "-t", session, format]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func resize(width: Int, height: Int) async throws {
        try await run(["resize-window", "-t", session, "-x", String(width), "-y", String(height)])
    }

    /// Stops the server and whatever still runs in it.
    func kill() async {
        _ = try? await run(["kill-server"])
        try? FileManager.default.removeItem(atPath: socket)
    }
}
