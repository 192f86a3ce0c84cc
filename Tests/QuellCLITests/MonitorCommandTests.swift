import QuellTestSupport
import Foundation
import Testing
@testable import Quell
@testable import QuellCLI

/// `quell monitor --once`, `--json`, and without a terminal, as a child process.
@Suite struct MonitorCommandTests {
    /// A running job with progress and a queued one.
    private func populate(_ store: JobStore) async throws -> Job {
        let job = try await store.enqueue(EnqueueRequest(type: "demo.sync", tenant: "acme", key: "inbox-1"))
        _ = try await store.enqueue(EnqueueRequest(type: "demo.noop", queue: "mail"))
        let started = try #require(try await store.startJobs().first)
        _ = try await store.progress([ProgressReport(id: job.id, lease: started.lease,
                                                     progress: JobProgress(stage: "processing_files", current: 10, total: 20))])
        return job
    }

    @Test func oncePrintsThePlainSnapshot() async throws {
        let store = makeStore("mon-once")
        let job = try await populate(store)
        let run = try await runQuell(["monitor", "--once"] + store.cliArguments)
        #expect(run.code == 0 && run.stderr.isEmpty, "\(run)")
        let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0].hasPrefix("Quell monitor  ") && lines[0].hasSuffix("2 jobs, 0 workers"))
        #expect(lines[1] == "queued 1  running 1  cancelling 0  completed 0  completed_with_errors 0  failed 0  cancelled 0  timed_out 0")
        #expect(lines.allSatisfy { $0.count <= 120 } && !run.stdout.contains("\u{1B}"))
        let row = try #require(lines.first { $0.hasPrefix("  \(job.id)") })
        #expect(row.contains("demo.sync") && row.contains("acme/inbox-1") && row.contains("running"))
        #expect(row.contains("██████████░░░░░░░░░░  50%") && row.hasSuffix("10/20"))
        #expect(lines.contains { $0.hasPrefix("mail ") && $0.hasSuffix(" 1     0.00") })

        // Not a terminal and no flag: the same thing.
        let piped = try await runQuell(["monitor"] + store.cliArguments)
        #expect(piped.code == 0 && piped.stdout.split(separator: "\n", omittingEmptySubsequences: false).count == lines.count, "\(piped)")
    }

    @Test func jsonPrintsTheSnapshot() async throws {
        let store = makeStore("mon-json")
        let job = try await populate(store)
        let run = try await runQuell(["monitor", "--json", "--stale-after", "30"] + store.cliArguments)
        #expect(run.code == 0 && run.stderr.isEmpty, "\(run)")
        let snapshot = try MonitorSnapshot.fromJSON(Data(run.stdout.utf8))
        #expect(snapshot.counts == .init(queued: 1, running: 1))
        #expect(snapshot.queues.map(\.name) == ["default", "mail"])
        #expect(snapshot.running.map(\.id) == [job.id])
        #expect(snapshot.running.first?.current == 10 && snapshot.running.first?.stage == "processing_files")
        #expect(snapshot.events.first?.text == "processing_files 10/20")
        #expect(run.stdout.hasPrefix("{\n  \"counts\" : {"))
    }

    @Test func usageErrors() async throws {
        for arguments in [["monitor", "--bogus"], ["monitor", "--stale-after", "0"], ["monitor", "extra"]] {
            let run = try await runQuell(arguments)
            #expect(run.code == 2 && run.errorLines.count == 1, "\(arguments): \(run)")
        }
    }
}
