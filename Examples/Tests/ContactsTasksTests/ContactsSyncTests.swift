import ContactsTasks
import FoundationEssentials
import Quell
import Testing

/// The task against a real Redis (QUELL_REDIS_URL, default redis://127.0.0.1:6379/0),
/// with a worker in this process. Each test uses a key prefix of its own, so
/// it never meets other data in that Redis.
@Suite(.serialized)
struct ContactsSyncTests {
    @Test func importsEveryContactWithAnEmailOnce() async throws {
        try await withWorker { store in
            let params = ContactsSync(account: "ann", pageSize: 25, simulation: .init(contacts: 120, pageDelayMilliseconds: 1))
            let job = try await store.enqueue(params, key: params.key)
            let done = try await finished(job.id, in: store)
            #expect(done.status == .completed)
            #expect(done.progress?.current == 120)
            // 120 contacts: 4 repeat the one before them, 10 more have no email.
            #expect(done.progress?.counters == ["imported": 106, "skipped": 14])
        }
    }

    @Test func aRemoteFailureIsRetried() async throws {
        try await withWorker { store in
            let params = ContactsSync(account: "ben", pageSize: 30, simulation: .init(contacts: 90, transientFailures: 1))
            let done = try await finished(try await store.enqueue(params).id, in: store)
            #expect(done.status == .completed)
            #expect(done.attempt == 2)
        }
    }

    @Test func invalidParamsFailAtOnce() async throws {
        try await withWorker { store in
            let done = try await finished(try await store.enqueue(ContactsSync(account: "cy", pageSize: 0)).id, in: store)
            #expect(done.status == .failed)
            #expect(done.attempt == 1)
            #expect(done.error?.contains("pageSize must be 1…1000") == true)
        }
    }

    @Test func cancelKeepsTheCountersOfFinishedPages() async throws {
        try await withWorker { store in
            let params = ContactsSync(account: "dee", simulation: .init(contacts: 100_000, pageDelayMilliseconds: 20))
            let job = try await store.enqueue(params, key: params.key)
            _ = try await waitFor(job.id, in: store) { ($0.progress?.counters["imported"] ?? 0) > 0 }
            try await store.cancel(id: job.id, tenant: "default")
            let done = try await finished(job.id, in: store)
            #expect(done.status == .cancelled)
            let counters = done.progress?.counters ?? [:]
            #expect((counters["imported"] ?? 0) > 0)
            #expect((counters["imported"] ?? 0) + (counters["skipped"] ?? 0) == done.progress?.current)
        }
    }

    @Test func cancelDuringASlowPageCancelsTheRequest() async throws {
        try await withWorker { store in
            // Each page takes 20 s: only the cancellation handler around the
            // request can stop the job sooner.
            let params = ContactsSync(account: "eve", simulation: .init(contacts: 1000, pageDelayMilliseconds: 20_000))
            let job = try await store.enqueue(params, key: params.key)
            _ = try await waitFor(job.id, in: store) { $0.progress?.stage == "connecting" }  // fetching page 1
            let asked = ContinuousClock.now
            try await store.cancel(id: job.id, tenant: "default")
            let done = try await finished(job.id, in: store)
            #expect(done.status == .cancelled)
            #expect(asked.duration(to: .now) < .seconds(15))
        }
    }
}

/// Runs `body` with a store on a fresh key prefix and a worker running the
/// task on it; stops the worker (gracefully) afterwards, also when `body` throws.
func withWorker(_ body: (JobStore) async throws -> Void) async throws {
    var configuration = try QuellConfiguration.fromEnvironment()
    configuration.prefix = "contacts-test-\(UInt32.random(in: 0...UInt32.max))"
    configuration.shutdownGrace = 1
    let store = JobStore(configuration: configuration)
    let registry = TaskRegistry()
    ContactsSyncTask.register(in: registry, remote: FakeContactsRemote(), book: AddressBook())
    let worker = Worker(store: store, registry: registry, options: .init(queues: [ContactsSync.defaults.queue]))
    let running = Task { await worker.run() }
    do {
        try await body(store)
    } catch {
        running.cancel()
        await running.value
        throw error
    }
    running.cancel()
    await running.value
}

/// The job once `condition` holds (polled), failing after `seconds`.
func waitFor(_ id: String, in store: JobStore, seconds: Double = 30,
             _ condition: (Job) -> Bool) async throws -> Job {
    let start = ContinuousClock.now
    while true {
        let job = try await store.job(id: id, tenant: nil)
        if condition(job) { return job }
        if start.duration(to: .now) > .seconds(seconds) {
            Issue.record("job \(id) still \(job.status.rawValue) after \(seconds) s")
            return job
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// The job once it is terminal.
func finished(_ id: String, in store: JobStore) async throws -> Job {
    try await waitFor(id, in: store) { $0.status.isTerminal }
}
