import QuellTestSupport
import Foundation
import Glibc
import Testing
@testable import Quell

/// `quell monitor` full-screen under tmux (a real pseudo-terminal of a fixed
/// size) against a Redis where a job is running — kept alive by a fake
/// worker that heartbeats and confirms cancels, as the real one will.
@Suite struct MonitorEndToEndTests {
    /// Polls `body` every 50 ms until it returns a value, for at most `timeout` seconds.
    private func eventually<T>(_ timeout: Double = 60, _ what: String, _ body: () async throws -> T?) async throws -> T {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if let value = try await body() { return value }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Tmux.Failure(description: "timed out waiting for \(what)")
    }

    /// Runs `quell monitor` in the pane, then `stty -a` on the same terminal
    /// into `directory/stty` (to see the settings it left) and its exit status
    /// into `directory/status` (tmux does not always record a dead pane's status).
    private func monitorCommand(_ binary: String, _ store: JobStore, directory: URL, environment: [String] = []) -> [String] {
        let stty = directory.appendingPathComponent("stty").path
        let status = directory.appendingPathComponent("status").path
        return ["/bin/sh", "-c", "\"$@\"; s=$?; stty -a > '\(stty)'; echo $s > '\(status).tmp'; mv '\(status).tmp' '\(status)'",
                "sh", "/usr/bin/env"] + environment + [binary, "monitor"] + store.cliArguments
    }

    /// What quell wrote to the terminal (tmux pipe-pane).
    private func output(_ directory: URL) -> String {
        (try? String(contentsOf: directory.appendingPathComponent("output"), encoding: .utf8)) ?? ""
    }

    /// Whether `text` holds an SGR sequence choosing a foreground colour (30–37).
    private func hasColour(_ text: String) -> Bool {
        text.range(of: "\u{1B}\\[([0-9]+;)*3[0-7](;[0-9]+)*m", options: .regularExpression) != nil
    }

    /// After quell exited: status 0, main screen, and the terminal as it was
    /// (line mode and echo back on, cursor shown, attributes reset).
    private func expectRestored(_ tmux: Tmux, directory: URL) async throws {
        let status = try await eventually(60, "quell to exit") { () async throws -> String? in
            try? String(contentsOf: directory.appendingPathComponent("status"), encoding: .utf8)
        }
        #expect(status == "0\n")
        #expect(try await tmux.pane("#{alternate_on}") == "0")
        let stty = try String(contentsOf: directory.appendingPathComponent("stty"), encoding: .utf8)
        let flags = Set(stty.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == ";" }).map(String.init))
        #expect(flags.isSuperset(of: ["icanon", "echo", "isig", "icrnl", "ixon"]), "\(stty)")
        let restored = "\u{1B}[?25h\u{1B}[0m\u{1B}[?1049l"
        _ = try await eventually(60, "the restoring sequences") { () async throws -> Bool? in
            output(directory).hasSuffix(restored) ? true : nil
        }
    }

    private func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quell-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test(.timeLimit(.minutes(1))) func showsARunningJobWithABarAndCancelsItWithCY() async throws {
        let binary = try QuellBinary.require()
        let store = makeStore("mon-e2e")
        let job = try await store.enqueue(EnqueueRequest(type: "demo.sync", tenant: "acme", key: "inbox-1"))
        let started = try #require(try await store.startJobs(1, worker: "e2e-worker").first)
        let progress = JobProgress(stage: "processing_files", percent: 45, current: 9, total: 20, counters: ["synced": 9])
        _ = try await store.progress([ProgressReport(id: job.id, lease: started.lease, progress: progress)])
        let worker = FakeWorker(store: store, id: "e2e-worker").run(started, progress: progress)
        defer { worker.cancel() }

        let tmux = Tmux("mon-e2e")
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            try await tmux.start(width: 120, height: 40, command: monitorCommand(binary, store, directory: directory),
                                 outputLog: directory.appendingPathComponent("output").path)
            let screen = try await tmux.waitForScreen("the running job with a bar") {
                $0.contains(job.id) && $0.contains("█") && $0.contains("WORKERS (1)")
            }
            let lines = screen.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count == 40 && lines.allSatisfy { $0.count <= 120 })
            let row = try #require(lines.first { $0.contains(job.id) }).trimmingCharacters(in: .whitespaces)
            #expect(row.hasPrefix("> \(job.id) demo.sync"), "the only running job is selected: \(row)")
            #expect(row.contains("acme/inbox-1") && row.contains("running"))
            #expect(row.contains("█████████░░░░░░░░░░░  45%") && row.hasSuffix("9/20"), "\(row)")
            #expect(screen.contains("stage processing_files  synced 9"))
            #expect(lines.last?.hasPrefix("↑/↓ select  c cancel  p pause/resume  q quit") == true)
            #expect(try await tmux.pane("#{alternate_on} #{cursor_flag}") == "1 0")
            _ = try await eventually(60, "colours in the output") { hasColour(output(directory)) ? true : nil }

            // Resizing redraws at the new width (the narrow layout cuts ids).
            try await tmux.resize(width: 80, height: 30)
            _ = try await tmux.waitForScreen("the 80-column layout") { screen in
                let rows = screen.split(separator: "\n", omittingEmptySubsequences: false)
                return rows.count == 30 && rows.contains { $0.hasPrefix("> \(job.id.prefix(11))…") && $0.contains("45%") }
            }
            try await tmux.resize(width: 120, height: 40)

            try await tmux.sendKeys("c")
            _ = try await tmux.waitForScreen("the cancel prompt") {
                $0.contains("Cancel job \(job.id) (demo.sync, acme/inbox-1)? y/n")
            }
            #expect(try await store.job(id: job.id, tenant: nil).status == .running)
            try await tmux.sendKeys("y")

            // The cancel reaches Redis: cancelling at once, cancelled when the worker confirms.
            let requested = try await eventually(60, "the cancel in Redis") { () async throws -> JobStatus? in
                let status = try await store.job(id: job.id, tenant: nil).status
                return status == .cancelling || status == .cancelled ? status : nil
            }
            #expect(requested == .cancelling || requested == .cancelled)
            #expect(await worker.value == .cancel)
            let final = try await store.job(id: job.id, tenant: nil)
            #expect(final.status == .cancelled && final.cancel?.reason == "user")
            #expect(final.progress?.counters == ["synced": 9])
            let after = try await tmux.waitForScreen("the job gone from the running list") {
                $0.contains("no running jobs") && $0.contains("cancelled 1")
            }
            #expect(after.split(separator: "\n").contains { $0.contains(job.id) && $0.contains("cancelled") && $0.contains("by user") })

            // q quits with status 0 and gives the terminal back.
            try await tmux.sendKeys("q")
            try await expectRestored(tmux, directory: directory)
        } catch {
            await tmux.kill()
            throw error
        }
        await tmux.kill()
    }

    @Test(.timeLimit(.minutes(1))) func ctrlCQuitsAndRestoresTheTerminalAndNoColorIsHonoured() async throws {
        let binary = try QuellBinary.require()
        let store = makeStore("mon-e2e-ctrlc")
        let tmux = Tmux("mon-e2e-ctrlc")
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            try await tmux.start(width: 100, height: 30,
                                 command: monitorCommand(binary, store, directory: directory, environment: ["NO_COLOR=1"]),
                                 outputLog: directory.appendingPathComponent("output").path)
            _ = try await tmux.waitForScreen("the dashboard") { $0.contains("Quell monitor") && $0.contains("no running jobs") }
            #expect(try await tmux.pane("#{alternate_on} #{cursor_flag}") == "1 0")
            let drawn = try await eventually(60, "the output") { () async throws -> String? in
                let text = output(directory)
                return text.contains("no running jobs") ? text : nil
            }
            #expect(!hasColour(drawn))
            try await tmux.sendKeys("C-c")
            try await expectRestored(tmux, directory: directory)
        } catch {
            await tmux.kill()
            throw error
        }
        await tmux.kill()
    }

    /// The same with a real `quell worker` running a `demo.sync`: the
    /// monitor shows it moving, and `c`, `y` stop it at its next checkpoint
    /// with its partial counters kept.
    @Test(.timeLimit(.minutes(1))) func aLiveWorkersDemoSyncIsCancelledFromTheMonitor() async throws {
        let binary = try QuellBinary.require()
        let store = makeStore("mon-e2e-worker")
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("QUELL_") }
        environment["QUELL_STALE_SECONDS"] = "5"
        let worker = try ChildProcess(binary, ["worker", "--heartbeat", "0.5", "--grace", "2"] + store.cliArguments,
                                      environment: environment, outputPath: directory.appendingPathComponent("worker.log").path)
        let tmux = Tmux("mon-e2e-worker")
        do {
            // 200 batches of 10 items, 50 ms each: about 10 s unless cancelled.
            let enqueued = try await runQuell(["enqueue", "demo.sync", "--params", #"{"total": 2000, "batch": 10, "delay_ms": 5}"#,
                                               "--tenant", "acme", "--key", "inbox-9", "--json"] + store.cliArguments)
            #expect(enqueued.code == 0, "\(enqueued)")
            let id = try #require(try JSONValue.parse(enqueued.stdout)["id"]?.stringValue)

            try await tmux.start(width: 120, height: 40, command: monitorCommand(binary, store, directory: directory),
                                 outputLog: directory.appendingPathComponent("output").path)
            let screen = try await tmux.waitForScreen("the worker's job with a bar") { screen in
                screen.split(separator: "\n").contains { $0.contains(id) && $0.contains("running") && $0.contains("█") }
            }
            #expect(screen.contains("WORKERS (1)") && screen.contains("stage processing_items"))
            try await tmux.sendKeys("c")
            _ = try await tmux.waitForScreen("the cancel prompt") { $0.contains("Cancel job \(id) (demo.sync, acme/inbox-9)? y/n") }
            try await tmux.sendKeys("y")

            let final = try await eventually(60, "the worker to stop the job") { () async throws -> Job? in
                let job = try await store.job(id: id, tenant: nil)
                return job.status == .cancelled ? job : nil
            }
            let synced = final.progress?.counters["synced"] ?? 0
            #expect(synced > 0 && synced < 2000, "partial work kept: \(synced)")
            _ = try await tmux.waitForScreen("the cancel on screen") {
                $0.contains("no running jobs") && $0.split(separator: "\n").contains { $0.contains(id) && $0.contains("cancelled") }
            }
            try await tmux.sendKeys("q")
            try await expectRestored(tmux, directory: directory)
        } catch {
            await tmux.kill()
            worker.signal(SIGKILL)
            _ = await worker.exitCode(timeout: 5)
            throw error
        }
        await tmux.kill()
        worker.signal(SIGTERM)
        #expect(await worker.exitCode(timeout: 10) == 0)
    }
}
