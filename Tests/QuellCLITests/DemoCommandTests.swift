import QuellTestSupport
import Foundation
import Glibc
import Testing
@testable import Quell
@testable import QuellCLI

/// `quell demo` as a child process: the story told as plain lines, inside the
/// live monitor under tmux, and on a given Redis — each run ending with
/// nothing it started left running, its temp dir gone and (on a given Redis)
/// no keys of its prefix. Serialized: each run has two workers and a Redis of
/// its own, and these 2 cores are shared. Every wait is for a condition; the
/// time limits only end a hung run.
@Suite(.serialized) struct DemoCommandTests {
    /// What a run printed about what it started.
    struct Started {
        var directory: String
        var redisServer: pid_t?
        var workers: [pid_t]
        var prefix: String?
    }

    /// Reads the pids and the temp dir off the demo's lines.
    private func started(_ text: String) throws -> Started {
        func captures(_ pattern: String) throws -> [String] {
            let regex = try NSRegularExpression(pattern: pattern)
            return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
                Range(match.range(at: 1), in: text).map { String(text[$0]) }
            }
        }
        let directory = try #require(try captures(#"quell demo: temp dir (\S+)"#).first)
        return Started(directory: directory,
                       redisServer: try captures(#"started redis-server pid (\d+)"#).first.flatMap { pid_t($0) },
                       workers: try captures(#"started worker \d pid (\d+)"#).compactMap { pid_t($0) },
                       prefix: try captures(#"under key prefix (\S+)"#).first)
    }

    /// Whether `pid` is a live (not zombie) process whose command line names `program`
    /// (a pid reused since by something else does not count).
    private func isRunning(_ pid: pid_t, _ program: String) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        if let close = stat.lastIndex(of: ")"), stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z") {
            return false
        }
        let command = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))).map {
            String(decoding: $0.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
        } ?? ""
        return command.contains(program)
    }

    /// Nothing it started is running, and its temp dir is gone.
    private func expectNothingLeft(_ s: Started, privateRedis: Bool, _ output: String) {
        #expect(s.workers.count == 2, "\(output)")
        if privateRedis { #expect(s.redisServer != nil, "\(output)") }
        for pid in s.workers { #expect(!isRunning(pid, "worker"), "worker pid \(pid) still runs") }
        if let redis = s.redisServer { #expect(!isRunning(redis, "redis-server"), "redis-server pid \(redis) still runs") }
        #expect(!FileManager.default.fileExists(atPath: s.directory), "\(s.directory) is left")
    }

    /// Each step's outcome, as the story tells it.
    private func expectEveryStep(_ text: String) {
        #expect(text.contains(#/step 1: drive:kb-1 → completed \(synced 200\)/#))
        #expect(text.contains(#/step 1: inbox:sales again → completed \(synced 0\): up to date/#))
        #expect(text.contains(#/step 2: duplicate trigger → 409 conflict: job [0-9A-Z]{26} running \d+% \(synced \d+\)/#))
        #expect(text.contains(#/step 3: job [0-9A-Z]{26} cancelled at its next checkpoint, partial counters kept: synced \d+ of 6000/#))
        #expect(text.contains(#/step 4: cancel while queued → 200 cancelled/#))
        #expect(text.contains(#/step 4: slots freed; job [0-9A-Z]{26} still cancelled, started_at null, attempt 0/#))
        #expect(text.contains(#/step 5: kill -9 worker \d \(pid \d+\)/#))
        #expect(text.contains(#/step 5: recovered after its heartbeat went stale \(3 s\): attempt 2 .* on worker \d/#))
        #expect(text.contains(#/step 5: job [0-9A-Z]{26} → completed \(synced 500\) on worker \d, attempt 2/#))
        #expect(text.contains("quell demo: all 5 steps as expected"))
    }

    @Test(.timeLimit(.minutes(5))) func withoutATerminalTheStoryPrintsEachStepAndNothingIsLeft() async throws {
        let run = try await runQuell(["demo", "--exit", "--port", "0"], timeout: 280)
        #expect(run.code == 0, "\(run)")
        expectEveryStep(run.stdout)
        #expect(!run.stdout.contains("FAILED"), "\(run)")
        // The story is told without the monitor: no escape sequences.
        #expect(!run.stdout.contains("\u{1B}"))
        expectNothingLeft(try started(run.stdout), privateRedis: true, run.stdout)
    }

    @Test(.timeLimit(.minutes(5))) func onATerminalTheMonitorShowsTheStoryAndExitEndsIt() async throws {
        let binary = try QuellBinary.require()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quell-demo-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let status = directory.appendingPathComponent("status").path
        let log = directory.appendingPathComponent("output").path
        let tmux = Tmux("demo-e2e")
        do {
            // The exit status goes to a file (tmux does not always keep a dead pane's).
            let command = ["/bin/sh", "-c", "\"$@\"; echo $? > '\(status).tmp'; mv '\(status).tmp' '\(status)'", "sh",
                           "/usr/bin/env", "-u", "QUELL_REDIS_URL", "-u", "QUELL_PREFIX", binary, "demo", "--exit", "--port", "0"]
            try await tmux.start(width: 120, height: 60, command: command, outputLog: log)
            // Everything drawn is in the log, frame by frame: the monitor with the story on its prompt line.
            func drawn() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
            let live = try await tmux.waitForScreen(timeout: 120, "the monitor telling the story, or the demo's end") { screen in
                (screen.contains("Quell monitor") && screen.contains("step ")) || FileManager.default.fileExists(atPath: status)
            }
            if !FileManager.default.fileExists(atPath: status) {
                #expect(live.contains("RUNNING") && live.contains("WORKERS"), "\(live)")
            }
            let code = try await eventually(280, "the demo to end") { () -> String? in
                try? String(contentsOfFile: status, encoding: .utf8)
            }
            #expect(code == "0\n")
            let raw = drawn()
            #expect(raw.contains("\u{1B}[?1049h"), "the alternate screen")
            // The frames as text: styling and cursor moves taken out.
            let frames = raw.replacing(#/\x1B\[[0-9;?]*[A-Za-z]/#, with: "")
            #expect(frames.contains("Quell monitor"))
            #expect(frames.contains(#/step 2: duplicate trigger → 409 conflict: job [0-9A-Z]{26} running/#), "the 409 on the prompt line")
            #expect(frames.contains(#/cancelled [1-9]/#), "cancelled jobs counted on the monitor")
            #expect(frames.contains(#/cancelled +\d+ by user; synced [1-9]/#), "the mid-run cancel in the monitor's events")
            #expect(frames.contains("step 5: recovered after its heartbeat went stale"), "the recovery on the prompt line")
            #expect(frames.contains("quell demo: all 5 steps as expected"))

            // Back on the main screen: the story's lines printed after the monitor, then what was stopped.
            #expect(try await tmux.pane("#{alternate_on}") == "0")
            let screen = try await tmux.capture()
            expectEveryStep(screen)
            #expect(screen.contains("quell demo: removed "))
            expectNothingLeft(try started(frames), privateRedis: true, frames)
        } catch {
            await tmux.kill()
            throw error
        }
        await tmux.kill()
    }

    @Test(.timeLimit(.minutes(5))) func onAGivenRedisItUsesAPrefixOfItsOwnAndLeavesNoKeys() async throws {
        let run = try await runQuell(["demo", "--exit", "--port", "0", "--redis", TestRedis.url.description], timeout: 280)
        #expect(run.code == 0, "\(run)")
        expectEveryStep(run.stdout)
        let s = try started(run.stdout)
        #expect(s.redisServer == nil, "no private redis-server with --redis")
        expectNothingLeft(s, privateRedis: false, run.stdout)
        let prefix = try #require(s.prefix, "\(run)")
        #expect(prefix.hasPrefix("quell-demo-"))
        let redis = TestRedis.client("demo-check")
        defer { redis.close() }
        let left = try await redis.send(RedisCommand("KEYS", "{\(prefix)}:*"))
        #expect(left.array?.isEmpty == true, "keys left: \(left)")
    }

    @Test func aGivenPrefixThatHoldsKeysIsRefusedAndKept() async throws {
        let store = makeStore("demo-taken")
        let job = try await store.enqueue(EnqueueRequest(type: "demo.noop"))
        let run = try await runQuell(["demo", "--exit", "--port", "0", "--redis", TestRedis.url.description,
                                      "--prefix", store.configuration.prefix])
        #expect(run.code == 2, "\(run)")
        #expect(run.stderr.contains("prefix '\(store.configuration.prefix)' already holds keys"), "\(run)")
        #expect(try await store.jobExists(job.id))
        #expect(!run.stdout.contains("started worker"))
        #expect(!FileManager.default.fileExists(atPath: try started(run.stdout).directory))
    }

    @Test func anUnreachableRedisExitsThree() async throws {
        let run = try await runQuell(["demo", "--exit", "--redis", "redis://127.0.0.1:1/0"])
        #expect(run.code == 3, "\(run)")
        #expect(run.stderr.contains("unreachable"), "\(run)")
    }

    @Test func deleteEverythingRemovesOnlyItsPrefix() async throws {
        let store = makeStore("demo-clean")
        // A prefix that starts with the other's name: `{p}:*` must not match `{p-x}:…`.
        var otherConfiguration = store.configuration
        otherConfiguration.prefix = store.configuration.prefix + "-x"
        let other = JobStore(redis: TestRedis.client("demo-clean-other"), configuration: otherConfiguration)
        for n in 0..<30 { try await store.enqueue(EnqueueRequest(type: "demo.noop", key: "k-\(n)")) }
        let kept = try await other.enqueue(EnqueueRequest(type: "demo.noop"))
        #expect(try await store.holdsAnyKeys())
        let deleted = try await store.deleteEverything()
        #expect(deleted > 30)
        #expect(!(try await store.holdsAnyKeys()))
        #expect(try await other.job(id: kept.id, tenant: nil).id == kept.id)
        _ = try await other.deleteEverything()
        // A fresh store on an unused prefix holds only what connecting writes.
        let fresh = makeStore("demo-fresh")
        #expect(!(try await fresh.holdsAnyKeys(ignoringLiveness: true)))
    }

    @Test func exitAndPrefixAreParsed() throws {
        let parsed = try QuellCommandLine.parse(["demo", "--exit", "--prefix", "mine"], environment: [:])
        #expect(parsed == .demo(DemoOptions(redisURL: nil, prefix: "mine", host: "127.0.0.1", port: 8_080,
                                            prefixOnCommandLine: true, exit: true)))
        // QUELL_PREFIX is no reason to use (and delete) a prefix on a given Redis.
        guard case .demo(let fromEnvironment) = try QuellCommandLine.parse(["demo"], environment: ["QUELL_PREFIX": "theirs"]) else {
            Issue.record("not a demo")
            return
        }
        #expect(fromEnvironment.prefix == "theirs" && !fromEnvironment.prefixOnCommandLine && !fromEnvironment.exit)
    }

    /// Polls `body` every 100 ms until it returns a value, for at most `timeout` seconds (a hang guard).
    private func eventually<T>(_ timeout: Double, _ what: String, _ body: () async throws -> T?) async throws -> T {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if let value = try await body() { return value }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Tmux.Failure(description: "timed out waiting for \(what)")
    }
}
