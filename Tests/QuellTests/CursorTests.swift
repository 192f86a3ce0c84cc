import QuellTestSupport
import QuellDemo
import Foundation
import Synchronization
import Testing
@testable import Quell

/// Checkpoint cursors (DESIGN.md "Checkpoint cursors"): a handler saves a
/// cursor with its counters in one write; a retry, or a recovery after its
/// worker was killed, continues from the last saved cursor with the counters
/// saved with it, instead of starting over.
@Suite("Checkpoint cursors")
struct CursorTests {
    struct PagedImport: TaskParameters {
        static let taskName = "test.paged-import"
        static let defaults = TaskDefaults(maxAttempts: 3, retryBackoff: Backoff(base: 0.01, max: 0.02))
        var pages: Int
        var failAtPage: Int
    }

    struct Page: Codable, Sendable { var next: Int }

    /// A fake remote that counts the pages it served.
    final class Remote: Sendable {
        let served = Mutex<[Int]>([])
        func fetch(_ page: Int) -> [String] {
            served.withLock { $0.append(page) }
            return (0..<10).map { "contact-\(page)-\($0)" }
        }
    }

    @Test func aRetryContinuesFromTheLastSavedCursorWithItsCounters() async throws {
        let store = makeStore("cursor-retry")
        let remote = Remote()
        let registry = TaskRegistry()
        registry.register(PagedImport.self) { p, context in
            var page = try context.cursor(as: Page.self)?.next ?? 0
            var imported = context.currentProgress.counters["imported"] ?? 0
            while page < p.pages {
                try context.checkpoint()
                imported += remote.fetch(page).count
                page += 1
                context.progress(current: page, total: p.pages, counters: ["imported": imported])
                try await context.saveCursor(Page(next: page))
                if page == p.failAtPage && context.job.attempt == 1 { throw CocoaLikeTimeout() }
            }
            return .completed
        }
        let worker = Worker(store: store, registry: registry, options: Worker.Options(id: "cursor-worker", progressInterval: 0.05))
        let run = Task { await worker.run() }
        let job = try await store.enqueue(PagedImport(pages: 8, failAtPage: 3))
        let final = try await store.waitForJob(job.id) { $0.status.isTerminal }
        #expect(final.status == .completed && final.attempt == 2, "\(final)")
        #expect(final.progress?.counters["imported"] == 80, "the counters as saved, plus the rest: \(String(describing: final.progress))")
        #expect(remote.served.withLock { $0 } == Array(0..<8), "no page fetched twice")
        run.cancel()
        await run.value
    }

    @Test func aCursorIsCapped() async throws {
        let store = makeStore("cursor-cap")
        let context = JobContext(job: try await store.enqueue(EnqueueRequest(type: "t")), lease: "l", store: store)
        await #expect(throws: QuellError.self) { try await context.saveCursor(String(repeating: "x", count: 17 * 1024)) }
    }

    /// The acceptance of the checkpoint part of the resumable-syncs issue, with
    /// real processes: a `demo.sync` whose worker is killed with SIGKILL
    /// mid-run resumes on another worker from its last saved cursor. What it
    /// synced before the cursor is not fetched again (the source's reads are
    /// counted: at most one page is fetched twice), and the counters are the
    /// items synced. The sync is long enough never to end by itself (it runs
    /// until told to stop), so the kill always lands mid-run; it ends with a
    /// cancel once the other worker has carried on.
    @Test func aKilledSyncResumesOnAnotherWorkerFromItsCursor() async throws {
        let store = makeStore("cursor-kill")
        let first = try WorkerProcess(store: store, heartbeat: 0.5, stale: 2)
        try await store.waitForWorkers(1)
        let batch = 10
        let job = try await store.enqueue(EnqueueRequest(type: "demo.sync", params: .object([
            "total": .number(1_000_000), "batch": .number(JSONNumber(batch)), "delay_ms": .number(2),
            "source": .string("kill-me")])))
        let synced = DemoTasks.syncedKey(store, tenant: "default", source: "kill-me")
        let reads = DemoTasks.readsKey(store.keys, tenant: "default", source: "kill-me")
        let running = try await store.waitForJob(job.id) { $0.status == .running }
        let victim = try #require(running.worker)
        let second = try WorkerProcess(store: store, heartbeat: 0.5, stale: 2)
        try await store.waitForWorkers(2)
        while try await store.redisCommand("SCARD", synced).int ?? 0 < 100 { try await Task.sleep(for: .milliseconds(5)) }
        first.process.signal(SIGKILL)
        _ = await first.process.exitCode(timeout: 30)
        let atKill = try await store.redisCommand("SCARD", synced).int ?? 0

        let resumed = try await store.waitForJob(job.id) { $0.status == .running && $0.attempt == 2 && $0.worker != victim }
        #expect(resumed.worker != nil)
        // The other worker carries on well past where the first one was.
        while try await store.redisCommand("SCARD", synced).int ?? 0 < atKill + 100 { try await Task.sleep(for: .milliseconds(5)) }
        _ = try await store.cancel(id: job.id, tenant: nil)
        let final = try await store.waitForJob(job.id) { $0.status.isTerminal }
        #expect(final.status == .cancelled && final.attempt == 2, "\(second.log)")
        let count = try await store.redisCommand("SCARD", synced).int ?? -1
        let fetched = try await store.redisCommand("GET", reads).string.flatMap { Int($0) } ?? -1
        #expect(final.progress?.counters["synced"] == count, "counters are the items synced: \(String(describing: final.progress)) vs \(count)")
        // Fetched and never synced: the page the kill interrupted (fetched again
        // after the resume: at most one page redone) and the page the cancel
        // interrupted. Started over, it would have fetched the first `atKill`
        // (≥ 100) items twice.
        #expect(atKill >= 100 && fetched >= count && fetched <= count + 2 * batch,
                "at most one page redone: \(fetched) fetched, \(count) synced, \(atKill) at the kill")
    }
}

struct CocoaLikeTimeout: Error, CustomStringConvertible { var description: String { "the remote timed out" } }
