import ContactsTasks
import FoundationEssentials
import Glibc
import Quell

/// Enqueues contacts syncs, as an application would, and checks what happens:
///
/// 1. alice's sync (600 contacts) through the route: 202; a second trigger
///    while it runs: 409 carrying the running job and its progress;
/// 2. bob's sync (100 000 contacts) is cancelled while it runs: `cancelled`,
///    with the counters of the pages it finished;
/// 3. carol's sync meets a remote failure on its first attempt: retried,
///    completed on the second;
/// 4. alice's sync completes, every contact counted.
///
/// Settings from the QUELL_* environment (QUELL_REDIS_URL, QUELL_PREFIX), as
/// the worker's. Needs a running contacts-worker. Exits 1 on anything
/// unexpected, so it doubles as the examples' end-to-end check.
@main
struct ContactsProducer {
    static func main() async {
        do {
            let store = JobStore(configuration: try QuellConfiguration.fromEnvironment())
            try await Scenario(store: store).run()
            print("contacts-producer: all as expected")
        } catch {
            print("contacts-producer: FAILED: \(error)")
            exit(1)
        }
    }
}

struct Unexpected: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

struct Scenario {
    let store: JobStore
    let tenant = "acme"
    /// Account names unique to this run, so runs against one Redis never meet.
    let run = String(UInt32.random(in: 0...0xFFFFFF), radix: 16)

    func run() async throws {
        // 1. Start alice's sync through the route; trigger it again while it runs.
        let alice = ContactsSync(account: "alice-\(run)", pageSize: 25,
                                 simulation: .init(contacts: 600, pageDelayMilliseconds: 60))
        let accepted = await postContactsSync(alice, tenant: tenant, store: store)
        guard accepted.status == 202 else { throw Unexpected("first trigger answered \(accepted.status): \(text(accepted.body))") }
        let aliceID = try JSONDecoder().decode(SyncStatus.self, from: accepted.body).id
        print("POST /contacts/sync (\(alice.account)) → 202 \(text(accepted.body))")

        // 2. and 3.: bob's (to cancel) and carol's (to be retried) run beside it.
        let bob = ContactsSync(account: "bob-\(run)", pageSize: 50,
                               simulation: .init(contacts: 100_000, pageDelayMilliseconds: 50))
        let bobJob = try await store.enqueue(bob, key: bob.key, tenant: tenant)
        print("enqueued \(describe(bobJob))")
        let carol = ContactsSync(account: "carol-\(run)", pageSize: 30,
                                 simulation: .init(contacts: 90, pageDelayMilliseconds: 10, transientFailures: 1))
        let carolJob = try await store.enqueue(carol, key: carol.key, tenant: tenant)
        print("enqueued \(describe(carolJob))")

        let aliceRunning = try await watch(aliceID, until: "alice's sync reports progress") {
            $0.status == .running && ($0.progress?.current ?? 0) > 0
        }
        let again = await postContactsSync(alice, tenant: tenant, store: store)
        guard again.status == 409, let body = try? JSONDecoder().decode(ErrorBody.self, from: again.body),
              let holder = body.job else {
            throw Unexpected("second trigger answered \(again.status): \(text(again.body))")
        }
        guard holder.id == aliceID, holder.status == .running, holder.progress?.total == 600 else {
            throw Unexpected("the 409 names \(holder), not alice's running sync \(describe(aliceRunning))")
        }
        print("POST /contacts/sync (\(alice.account)) again → 409 \(text(again.body))")

        // 2. Cancel bob's sync once it has imported something; its counters stay.
        _ = try await watch(bobJob.id, until: "bob's sync imports contacts") {
            $0.status == .running && ($0.progress?.counters["imported"] ?? 0) > 0
        }
        let cancelling = try await store.cancel(id: bobJob.id, tenant: tenant)
        print("cancel → \(describe(cancelling))")
        let bobDone = try await watch(bobJob.id, until: "bob's sync stops") { $0.status.isTerminal }
        let kept = bobDone.progress?.counters ?? [:]
        guard bobDone.status == .cancelled, (kept["imported"] ?? 0) > 0,
              let current = bobDone.progress?.current, current < 100_000 else {
            throw Unexpected("bob's sync after cancel: \(describe(bobDone))")
        }
        print("bob's sync cancelled after \(current) of 100000 contacts; kept imported=\(kept["imported"] ?? 0) skipped=\(kept["skipped"] ?? 0)")

        // 3. carol's first attempt fails on page 2; the retry completes.
        let carolDone = try await watch(carolJob.id, until: "carol's sync finishes") { $0.status.isTerminal }
        guard carolDone.status == .completed, carolDone.attempt == 2, counted(carolDone) == 90 else {
            throw Unexpected("carol's sync: \(describe(carolDone)) (expected completed on attempt 2, 90 contacts counted)")
        }
        print("carol's sync completed on attempt \(carolDone.attempt) of \(carolDone.maxAttempts)")

        // 4. alice's sync completes with every contact counted.
        let aliceDone = try await watch(aliceID, until: "alice's sync finishes") { $0.status.isTerminal }
        guard aliceDone.status == .completed, counted(aliceDone) == 600 else {
            throw Unexpected("alice's sync: \(describe(aliceDone)) (expected completed, 600 contacts counted)")
        }
    }

    /// Polls the job until `done` holds (printing each new version), for at most `seconds`.
    func watch(_ id: String, until what: String, seconds: Double = 60, _ done: (Job) -> Bool) async throws -> Job {
        let start = ContinuousClock.now
        var version = 0
        var warned = false
        while true {
            let job = try await store.job(id: id, tenant: tenant)
            if job.version != version {
                version = job.version
                print("  \(describe(job))")
            }
            if done(job) { return job }
            let waited = start.duration(to: .now)
            if job.status == .queued && waited > .seconds(5) && !warned {
                print("  still queued after 5 s: is contacts-worker running on queue '\(job.queue)'?")
                warned = true
            }
            if waited > .seconds(seconds) { throw Unexpected("waited \(Int(seconds)) s for \(what): \(describe(job))") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// `01J… running attempt 1/3 importing 150/600 imported=137 skipped=13`
func describe(_ job: Job) -> String {
    var line = "\(job.id) \(job.status.rawValue) attempt \(job.attempt)/\(job.maxAttempts)"
    if let p = job.progress {
        if let stage = p.stage { line += " \(stage)" }
        if let current = p.current { line += " \(current)/\(p.total.map(String.init) ?? "?")" }
        for name in p.counters.keys.sorted() { line += " \(name)=\(p.counters[name]!)" }
    }
    if let error = job.error { line += " error=\"\(error)\"" }
    return line
}

/// Contacts the sync looked at: imported plus skipped.
func counted(_ job: Job) -> Int {
    (job.progress?.counters["imported"] ?? 0) + (job.progress?.counters["skipped"] ?? 0)
}

func text(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }
