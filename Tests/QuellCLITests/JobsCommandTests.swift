import QuellTestSupport
import Foundation
import Testing
@testable import Quell

/// `quell jobs list|show|cancel|cleanup`, run as a child process against the
/// test Redis: output (tables and `Job.json`) and exit codes 0, 1, 2, 3.
@Suite struct JobsCommandTests {
    private func json(_ text: String) throws -> JSONValue { try JSONValue.parse(text) }

    private func ids(_ value: JSONValue?) -> [String] {
        guard case .array(let jobs)? = value else { return [] }
        return jobs.compactMap { $0["id"]?.stringValue }
    }

    @Test func listPrintsATableAndJSONPages() async throws {
        let store = makeStore("cli-list")
        var made: [Job] = []
        for (tenant, key) in [("acme", "kb-1"), ("globex", nil), ("acme", nil)] {
            made.append(try await store.enqueue(EnqueueRequest(type: "demo.sync", tenant: tenant, key: key)))
        }
        let newestFirst = made.reversed().map(\.id)

        let table = try await runQuell(["jobs", "list"] + store.cliArguments)
        #expect(table.code == 0, "\(table)")
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines.first?.hasPrefix("ID                          STATUS  TYPE       TENANT  KEY   QUEUE    TRY  RESUMES  PROGRESS") == true)
        #expect(lines.dropFirst().map { String($0.prefix(26)) } == newestFirst)
        #expect(lines[3].contains("queued  demo.sync  acme    kb-1  default  0/3        -  -"))

        let all = try await runQuell(["jobs", "list", "--json"] + store.cliArguments)
        #expect(all.code == 0 && all.stderr.isEmpty, "\(all)")
        let page = try json(all.stdout)
        #expect(ids(page["jobs"]) == newestFirst)
        #expect(page["next_cursor"] == .null)
        // Each job is exactly Job.json.
        guard case .array(let jobs)? = page["jobs"] else { Issue.record("no jobs array"); return }
        #expect(jobs.last == (try json(made[0].json)))

        let acme = try json(try await runQuell(["jobs", "list", "--json", "--tenant", "acme"] + store.cliArguments).stdout)
        #expect(ids(acme["jobs"]) == [made[2].id, made[0].id])
        let keyed = try json(try await runQuell(["jobs", "list", "--json", "--key", "kb-1"] + store.cliArguments).stdout)
        #expect(ids(keyed["jobs"]) == [made[0].id])

        let first = try json(try await runQuell(["jobs", "list", "--json", "--limit", "2"] + store.cliArguments).stdout)
        #expect(ids(first["jobs"]) == Array(newestFirst.prefix(2)))
        let cursor = try #require(first["next_cursor"]?.stringValue)
        let second = try json(try await runQuell(["jobs", "list", "--json", "--limit", "2", "--cursor", cursor]
            + store.cliArguments).stdout)
        #expect(ids(second["jobs"]) == [made[0].id] && second["next_cursor"] == .null)

        let none = try await runQuell(["jobs", "list", "--status", "failed"] + store.cliArguments)
        #expect(none.code == 0 && none.stdout.isEmpty && none.stderr == "no jobs\n")
    }

    @Test func showPrintsOneJob() async throws {
        let store = makeStore("cli-show")
        let job = try await store.enqueue(EnqueueRequest(type: "demo.sync", params: .object(["source": .string("inbox-7")]),
                                                         tenant: "acme", key: "inbox-7"))
        let shown = try await runQuell(["jobs", "show", job.id] + store.cliArguments)
        #expect(shown.code == 0, "\(shown)")
        #expect(shown.stdout.hasPrefix("id         \(job.id)\ntype       demo.sync\nstatus     queued\ntenant     acme\n"))
        #expect(shown.stdout.contains("\nparams     {\"source\":\"inbox-7\"}\n"))
        #expect(shown.stdout.contains("\noutput     {\(store.configuration.prefix)}:app:demo:synced:acme:inbox-7 (a set)\n"))

        let asJSON = try await runQuell(["jobs", "show", job.id, "--json"] + store.cliArguments)
        #expect(asJSON.code == 0 && asJSON.stdout == job.json + "\n", "\(asJSON)")
        #expect(try json(asJSON.stdout)["status"] == .string("queued"))

        let ownTenant = try await runQuell(["jobs", "show", job.id, "--tenant", "acme", "--json"] + store.cliArguments)
        #expect(ownTenant.code == 0)
    }

    @Test func notFoundIsExitOne() async throws {
        let store = makeStore("cli-404")
        let job = try await store.enqueue(EnqueueRequest(type: "demo.noop", tenant: "acme"))
        let missing = JobID.make()
        for arguments in [["jobs", "show", missing], ["jobs", "show", "not-an-id"], ["jobs", "cancel", missing],
                          ["jobs", "show", job.id, "--tenant", "globex"], ["jobs", "cancel", job.id, "--tenant", "globex"]] {
            let run = try await runQuell(arguments + store.cliArguments + ["--json"])
            #expect(run.code == 1, "\(arguments): \(run)")
            #expect(run.stdout.isEmpty)
            #expect(run.errorLines.count == 1 && run.stderr.contains("not found"), "\(run)")
        }
        // The other tenant's attempt changed nothing.
        #expect(try await store.job(id: job.id, tenant: nil).status == .queued)
    }

    @Test func cancelQueuedRunningAndTerminal() async throws {
        let store = makeStore("cli-cancel")
        let queued = try await store.enqueue(EnqueueRequest(type: "demo.noop"))
        let cancelled = try await runQuell(["jobs", "cancel", queued.id, "--json"] + store.cliArguments)
        #expect(cancelled.code == 0, "\(cancelled)")
        #expect(try json(cancelled.stdout)["status"] == .string("cancelled"))
        #expect(try await store.job(id: queued.id, tenant: nil).status == .cancelled)

        // Running, nobody confirms: cancelling, also after a short wait.
        _ = try await store.enqueue(EnqueueRequest(type: "demo.sync", key: "kb-1"))
        let started = try #require(try await store.startJobs().first)
        let unconfirmed = try await runQuell(["jobs", "cancel", started.job.id, "--wait", "0.2"] + store.cliArguments)
        #expect(unconfirmed.code == 0, "\(unconfirmed)")
        #expect(unconfirmed.stdout.hasPrefix("job \(started.job.id) still cancelling after 0.2s"))
        #expect(unconfirmed.stdout.contains("\nstatus     cancelling\n"))

        // Running with a (fake) worker that confirms at its next heartbeat: --wait sees cancelled.
        _ = try await store.enqueue(EnqueueRequest(type: "demo.sync", key: "kb-2"))
        let second = try #require(try await store.startJobs(worker: "w2").first)
        let worker = FakeWorker(store: store, id: "w2").run(second, progress: JobProgress(counters: ["synced": 3]))
        let waited = try await runQuell(["jobs", "cancel", second.job.id, "--wait", "10", "--json"] + store.cliArguments)
        #expect(waited.code == 0, "\(waited)")
        let final = try json(waited.stdout)
        #expect(final["status"] == .string("cancelled"))
        #expect(final["progress"]?["counters"]?["synced"] == .number(3))
        #expect(await worker.value == .cancel)

        // Terminal: not cancellable, exit 1, nothing on stdout.
        let done = try await runQuell(["jobs", "cancel", queued.id] + store.cliArguments)
        #expect(done.code == 0, "repeating a cancel answers the same: \(done)")
        let finished = try await store.enqueue(EnqueueRequest(type: "demo.noop"))
        let run = try #require(try await store.startJobs().first)
        #expect(run.job.id == finished.id)
        _ = try await store.finish([FinishReport(id: run.job.id, lease: run.lease, status: .completed)])
        let refused = try await runQuell(["jobs", "cancel", finished.id] + store.cliArguments)
        #expect(refused.code == 1 && refused.stdout.isEmpty, "\(refused)")
        #expect(refused.stderr == "quell jobs cancel: not cancellable: job \(finished.id) is completed\n")
    }

    @Test func cleanupClosesStuckJobs() async throws {
        let store = makeStore("cli-cleanup")
        // Jobs started a minute ago whose worker never beat again.
        let past = store.withClock(ManualClock(Date().addingTimeInterval(-60)), name: "past")
        let retried = try await past.enqueue(EnqueueRequest(type: "demo.sync", tenant: "acme", key: "kb-1"))
        let failed = try await past.enqueue(EnqueueRequest(type: "demo.sync", tenant: "acme", maxAttempts: 1))
        let started = try await past.startJobs(2, worker: "gone")
        #expect(started.count == 2)
        let live = try await store.enqueue(EnqueueRequest(type: "demo.sync"))
        _ = try await store.startJobs(1, worker: "alive")

        let run = try await runQuell(["jobs", "cleanup", "--json"] + store.cliArguments)
        #expect(run.code == 0, "\(run)")
        let result = try json(run.stdout)
        #expect(result["cleaned"] == .number(2))
        guard case .array(let jobs)? = result["jobs"] else { Issue.record("no jobs"); return }
        let statuses = Dictionary(uniqueKeysWithValues: jobs.map { ($0["id"]?.stringValue ?? "", $0["status"]?.stringValue ?? "") })
        #expect(statuses == [retried.id: "queued", failed.id: "failed"])
        #expect(try await store.job(id: live.id, tenant: nil).status == .running)

        let again = try await runQuell(["jobs", "cleanup"] + store.cliArguments)
        #expect(again.code == 0 && again.stdout == "no stuck jobs\n", "\(again)")

        // The human form lists what it closed.
        _ = try await past.startJobs(1, worker: "gone-again")  // the requeued one, stale at once
        let human = try await runQuell(["jobs", "cleanup", "--tenant", "acme"] + store.cliArguments)
        #expect(human.code == 0, "\(human)")
        #expect(human.stdout.hasPrefix("closed 1 stuck job:\n\nID  "))
        #expect(human.stdout.contains("\(retried.id)  queued  demo.sync  acme    kb-1  worker gone-again lost"))
    }

    @Test func usageErrorsAreExitTwo() async throws {
        let store = makeStore("cli-usage")
        let cases: [[String]] = [
            ["jobs", "list", "--status", "done"],
            ["jobs", "list", "--bogus"],
            ["jobs", "list", "--limit", "0"],
            ["jobs", "list", "--cursor", "nope"],
            ["jobs", "list", "--tenant", "a b"],
            ["jobs", "show"],
            ["jobs", "show", "a", "b"],
            ["jobs", "cancel", JobID.make(), "--wait", "-1"],
            ["jobs", "cleanup", "extra"],
            ["jobs", "frobnicate"],
        ]
        for arguments in cases {
            let run = try await runQuell(arguments + store.cliArguments)
            #expect(run.code == 2, "\(arguments): \(run)")
            #expect(run.stdout.isEmpty && run.errorLines.count == 1, "\(arguments): \(run)")
            #expect(run.stderr.hasPrefix("quell jobs"), "\(arguments): \(run)")
        }
        let badURL = try await runQuell(["jobs", "list", "--redis", "http://nope"])
        #expect(badURL.code == 2 && badURL.errorLines.count == 1, "\(badURL)")
    }

    @Test func unreachableRedisIsExitThree() async throws {
        let nowhere = ["--redis", "redis://127.0.0.1:\(freePort())/0", "--prefix", "t-nowhere"]
        let id = JobID.make()
        for arguments in [["jobs", "list"], ["jobs", "list", "--json"], ["jobs", "show", id], ["jobs", "cancel", id],
                          ["jobs", "cleanup"], ["enqueue", "demo.noop"], ["monitor", "--once"], ["monitor", "--json"]] {
            let run = try await runQuell(arguments + nowhere)
            #expect(run.code == 3, "\(arguments): \(run)")
            #expect(run.stdout.isEmpty && run.errorLines.count == 1, "\(arguments): \(run)")
            #expect(run.stderr.contains("Redis unavailable: cannot connect to Redis"), "\(arguments): \(run)")
        }
        // The URL from the environment counts the same.
        let fromEnvironment = try await runQuell(["jobs", "list"], environment: ["QUELL_REDIS_URL": nowhere[1]])
        #expect(fromEnvironment.code == 3, "\(fromEnvironment)")
    }
}
