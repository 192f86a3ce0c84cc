import QuellTestSupport
import Foundation
import Testing
@testable import Quell

/// `quell enqueue TYPE …` as a child process: the job it prints, conflicts, rejected requests.
@Suite struct EnqueueCommandTests {
    @Test func enqueuePrintsTheNewJob() async throws {
        let store = makeStore("cli-enqueue")
        let run = try await runQuell(["enqueue", "demo.sync", "--params", #"{"total": 20, "mode": "full"}"#,
                                      "--key", "inbox-1", "--tenant", "acme", "--queue", "mail", "--max-attempts", "5",
                                      "--json"] + store.cliArguments)
        #expect(run.code == 0 && run.stderr.isEmpty, "\(run)")
        let printed = try JSONValue.parse(run.stdout)
        let id = try #require(printed["id"]?.stringValue)
        let stored = try await store.job(id: id, tenant: "acme")
        #expect(run.stdout == stored.json + "\n")
        #expect(stored.status == .queued && stored.type == "demo.sync" && stored.queue == "mail" && stored.key == "inbox-1")
        #expect(stored.maxAttempts == 5)
        #expect(printed["params"] == .object(["total": .number(20), "mode": .string("full")]))

        let human = try await runQuell(["enqueue", "demo.noop"] + store.cliArguments)
        #expect(human.code == 0, "\(human)")
        #expect(human.stdout.contains("\ntype       demo.noop\nstatus     queued\ntenant     default\n"))
        #expect(try await store.stats(tenant: nil).counts[.queued] == 2)
    }

    @Test func aHeldKeyIsAConflict() async throws {
        let store = makeStore("cli-conflict")
        let holder = try await store.enqueue(EnqueueRequest(type: "demo.sync", key: "kb-42"))
        let run = try await runQuell(["enqueue", "demo.sync", "--key", "kb-42", "--json"] + store.cliArguments)
        #expect(run.code == 1 && run.stdout.isEmpty, "\(run)")
        #expect(run.stderr == "quell enqueue: conflict: job \(holder.id) (queued) holds key 'kb-42'\n")
    }

    @Test func rejectedRequestsAreUsageErrors() async throws {
        let store = makeStore("cli-enqueue-bad")
        for arguments in [["enqueue", "demo sync"], ["enqueue", "demo.noop", "--max-attempts", "500"],
                          ["enqueue", "demo.noop", "--queue", "no/slashes"], ["enqueue", "demo.noop", "--params", "[1]"]] {
            let run = try await runQuell(arguments + store.cliArguments)
            #expect(run.code == 2 && run.stdout.isEmpty && run.errorLines.count == 1, "\(arguments): \(run)")
        }
        #expect(try await store.stats(tenant: nil).counts[.queued] == 0)
    }
}
