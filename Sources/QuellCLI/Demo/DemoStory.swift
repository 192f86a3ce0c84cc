import FoundationEssentials
import Glibc
import Quell
import Synchronization

/// The scripted story of `quell demo`, told through the HTTP API (so each
/// line shows the API's answer), each step waiting for job states — never
/// for a length of time. The bounds on those waits only end a hung demo.
///
/// 1. syncs on different keys, full and incremental;
/// 2. a duplicate trigger on a busy key: 409 with the running job;
/// 3. a cancel mid-run: partial counters kept;
/// 4. a queued job (every slot busy) cancelled before it starts;
/// 5. a worker killed with SIGKILL mid-job, the job recovered by the other worker.
struct DemoStory: Sendable {
    /// A worker of the demo: its label, pid and process.
    struct WorkerProcess: Sendable {
        var label: String
        var child: DemoChild
    }

    enum End: Sendable, Equatable {
        case done
        case failed(step: Int, message: String)
        /// Stopped (Ctrl-C, `q`) while this step ran.
        case interrupted(step: Int)
    }

    struct StepFailure: Error {
        var step: Int
        var message: String
    }

    let api: DemoAPIClient
    let workers: [WorkerProcess]
    /// Slots per worker.
    let concurrency: Int
    /// Seconds after which a silent worker's jobs are recovered (for the story's words).
    let staleAfter: Double
    /// Each story line, as it happens (`step 2: …`); the story goes on when it returns.
    let report: @Sendable (String) async -> Void
    /// The longest any one wait may take before the demo calls itself hung.
    var bound: Double = 120

    /// The step running now, for an interruption's message.
    private let current = CurrentStep()

    init(api: DemoAPIClient, workers: [WorkerProcess], concurrency: Int, staleAfter: Double,
         report: @escaping @Sendable (String) async -> Void) {
        self.api = api
        self.workers = workers
        self.concurrency = concurrency
        self.staleAfter = staleAfter
        self.report = report
    }

    func run() async -> End {
        do {
            let busy = try await step1()
            try await step2And3(busy)
            try await step4()
            try await step5()
            return .done
        } catch let failure as StepFailure {
            if Task.isCancelled { return .interrupted(step: failure.step) }
            await report("step \(failure.step): FAILED: \(failure.message)")
            return .failed(step: failure.step, message: failure.message)
        } catch {
            return .interrupted(step: current.step)
        }
    }

    // MARK: - The steps

    /// The long job of steps 1–3 (cancelled in step 3).
    private static let busyKey = "contacts:crm"

    /// Returns the long job on the busy key.
    private func step1() async throws -> DemoJob {
        await begin(1, "syncs on different keys (POST /v1/jobs)")
        let drive = try await enqueue(1, key: "drive:kb-1", mode: "full", total: 200, source: "drive-kb-1")
        let inbox = try await enqueue(1, key: "inbox:sales", mode: "incremental", total: 300, source: "inbox-sales")
        let busy = try await enqueue(1, key: Self.busyKey, mode: "full", total: 6000, source: "contacts-crm")
        let started = try await waitFor(1, drive.id, "started") { $0.hasStarted }
        let startedInbox = try await waitFor(1, inbox.id, "started") { $0.hasStarted }
        await say(1, "drive:kb-1 \(started.summary) on \(label(started)), inbox:sales \(startedInbox.summary) on \(label(startedInbox))")
        for (job, total) in [(drive, 200), (inbox, 300)] {
            let done = try await waitFor(1, job.id, "completed") { $0.status == "completed" }
            try expect(1, done.synced == total, "\(job.key ?? job.id) ended \(done.summary), expected synced \(total)")
            await say(1, "\(job.key ?? "") → \(done.summary), attempt \(done.attempt) on \(label(done))")
        }
        // The same source again, incrementally: it stops at the first item it already has.
        let again = try await enqueue(1, key: "inbox:sales", mode: "incremental", total: 300, source: "inbox-sales",
                                      note: "again: only what is new")
        let upToDate = try await waitFor(1, again.id, "completed") { $0.status == "completed" }
        try expect(1, upToDate.synced == 0 && upToDate.stage == "up_to_date",
                   "the incremental re-sync ended \(upToDate.summary) at stage \(upToDate.stage ?? "-"), expected up to date")
        await say(1, "inbox:sales again → \(upToDate.summary): up to date, nothing new to sync")
        return busy
    }

    private func step2And3(_ busy: DemoJob) async throws {
        await begin(2, "a duplicate trigger on the busy key \(Self.busyKey)")
        let running = try await waitFor(2, busy.id, "running with items synced") { $0.status == "running" && ($0.synced ?? 0) > 0 }
        let duplicate = try await request(2, "POST", "/v1/jobs", json: Self.syncBody(key: Self.busyKey, mode: "full", total: 6000,
                                                                                     source: "contacts-crm"))
        try expect(2, duplicate.status == 409 && duplicate.errorCode == "conflict",
                   "the duplicate was answered \(duplicate.status) \(duplicate.errorCode ?? ""), expected 409 conflict")
        guard let holder = duplicate.job else { throw StepFailure(step: 2, message: "the 409 carried no job") }
        try expect(2, holder.id == running.id, "the 409 named job \(holder.id), expected the running \(running.id)")
        await say(2, "duplicate trigger → 409 conflict: job \(holder.id) \(holder.summary)")

        await begin(3, "cancel \(Self.busyKey) mid-run (POST /v1/jobs/\(busy.id)/cancel)")
        let cancel = try await request(3, "POST", "/v1/jobs/\(busy.id)/cancel")
        try expect(3, cancel.status == 200 && ["cancelling", "cancelled"].contains(cancel.job?.status ?? ""),
                   "the cancel was answered \(cancel.status) \(cancel.job?.status ?? cancel.errorCode ?? ""), expected 200 cancelling")
        await say(3, "cancel → 200 \(cancel.job?.status ?? "")")
        let cancelled = try await waitFor(3, busy.id, "cancelled") { $0.status == "cancelled" }
        let synced = cancelled.synced ?? 0
        try expect(3, synced > 0 && synced < 6000, "cancelled with synced \(synced), expected partial work kept (0 < synced < 6000)")
        await say(3, "job \(busy.id) cancelled at its next checkpoint, partial counters kept: synced \(synced) of 6000")
    }

    private func step4() async throws {
        let slots = workers.count * concurrency
        await begin(4, "a queued job cancelled before it starts")
        var fillers: [DemoJob] = []
        for n in 1...slots {
            fillers.append(try await enqueue(4, key: "fill-\(n)", mode: "full", total: 3000, source: "fill-\(n)", quiet: true))
        }
        var perWorker: [String: Int] = [:]
        for filler in fillers {
            let running = try await waitFor(4, filler.id, "running") { $0.status == "running" }
            perWorker[label(running), default: 0] += 1
        }
        await say(4, "\(slots) syncs fill every slot: " + perWorker.keys.sorted().map { "\($0) runs \(perWorker[$0]!)" }.joined(separator: ", "))
        let late = try await enqueue(4, key: "inbox:late", mode: "full", total: 200, source: "inbox-late", note: "with no free slot")
        let waiting = try await show(4, late.id)
        try expect(4, waiting.status == "queued", "inbox:late is \(waiting.summary), expected queued (every slot busy)")
        let cancel = try await request(4, "POST", "/v1/jobs/\(late.id)/cancel")
        try expect(4, cancel.status == 200 && cancel.job?.status == "cancelled",
                   "the cancel was answered \(cancel.status) \(cancel.job?.status ?? cancel.errorCode ?? ""), expected 200 cancelled")
        await say(4, "cancel while queued → 200 cancelled at once")
        for filler in fillers {
            let r = try await request(4, "POST", "/v1/jobs/\(filler.id)/cancel")
            try expect(4, r.status == 200, "cancelling filler \(filler.id) was answered \(r.status)")
        }
        for filler in fillers { _ = try await waitFor(4, filler.id, "cancelled") { $0.status == "cancelled" } }
        // The slots are free now: had the cancelled job been left anywhere, it would start.
        let after = try await show(4, late.id)
        try expect(4, after.status == "cancelled" && after.startedAt == nil && after.attempt == 0,
                   "inbox:late ended \(after.summary), started_at \(after.startedAt ?? "null"), expected cancelled and never started")
        await say(4, "slots freed; job \(late.id) still cancelled, started_at null, attempt 0: it never ran")
    }

    private func step5() async throws {
        await begin(5, "a worker killed with SIGKILL mid-job; the other recovers the job")
        let big = try await enqueue(5, key: "inbox:big", mode: "full", total: 500, source: "inbox-big")
        let running = try await waitFor(5, big.id, "running with items synced") {
            $0.status == "running" && ($0.synced ?? 0) > 0 && $0.workerPID != nil
        }
        guard let victim = workers.first(where: { $0.child.pid == running.workerPID }) else {
            throw StepFailure(step: 5, message: "job \(big.id) runs on \(running.worker ?? "?"), not one of the demo's workers")
        }
        victim.child.send(SIGKILL)
        let code = await victim.child.waitForExit(seconds: bound)
        try expect(5, code != nil, "\(victim.label) (pid \(victim.child.pid)) did not die of SIGKILL")
        await say(5, "kill -9 \(victim.label) (pid \(victim.child.pid)) while job \(big.id) was \(running.summary)")
        let recovered = try await waitFor(5, big.id, "running again on another worker") {
            $0.attempt >= 2 && $0.hasStarted && $0.workerPID != nil && $0.workerPID != victim.child.pid
        }
        try expect(5, recovered.attempt == 2, "the recovered run is attempt \(recovered.attempt), expected 2")
        await say(5, "recovered after its heartbeat went stale (\(decimal(staleAfter, digits: 0)) s): attempt 2 \(recovered.summary) on \(label(recovered))")
        let done = try await waitFor(5, big.id, "completed") { $0.status == "completed" }
        try expect(5, done.attempt == 2 && done.synced == 500 && done.workerPID == recovered.workerPID,
                   "ended \(done.summary), attempt \(done.attempt) on \(label(done)), expected completed, attempt 2, synced 500")
        await say(5, "job \(big.id) → \(done.summary) on \(label(done)), attempt 2")
    }

    // MARK: - Helpers

    private func begin(_ step: Int, _ text: String) async {
        current.step = step
        await report("step \(step): \(text)")
    }

    private func say(_ step: Int, _ text: String) async {
        await report("step \(step): \(text)")
    }

    private func expect(_ step: Int, _ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw StepFailure(step: step, message: message()) }
    }

    static func syncBody(key: String, mode: String, total: Int, source: String) -> String {
        // 10 items a batch, 10 ms an item: 100 items a second.
        #"{"type": "demo.sync", "key": "\#(key)", "params": {"mode": "\#(mode)", "total": \#(total), "batch": 10, "delay_ms": 10, "source": "\#(source)"}}"#
    }

    /// `POST /v1/jobs` for a `demo.sync`, expecting 202.
    private func enqueue(_ step: Int, key: String, mode: String, total: Int, source: String, note: String? = nil,
                         quiet: Bool = false) async throws -> DemoJob {
        let r = try await request(step, "POST", "/v1/jobs", json: Self.syncBody(key: key, mode: mode, total: total, source: source))
        guard r.status == 202, let job = r.job else {
            throw StepFailure(step: step, message: "POST /v1/jobs \(key) was answered \(r.status) \(r.errorCode ?? ""), expected 202")
        }
        if !quiet {
            await say(step, "\(key) \(mode), \(total) items\(note.map { " (\($0))" } ?? "") → 202 \(job.status), job \(job.id)")
        }
        return job
    }

    /// `GET /v1/jobs/{id}`.
    private func show(_ step: Int, _ id: String) async throws -> DemoJob {
        let r = try await request(step, "GET", "/v1/jobs/\(id)")
        guard r.status == 200, let job = r.job else {
            throw StepFailure(step: step, message: "GET /v1/jobs/\(id) was answered \(r.status) \(r.errorCode ?? "")")
        }
        return job
    }

    /// Polls the job until `condition` holds. A job that ended otherwise
    /// never will (terminal is final): that fails at once.
    private func waitFor(_ step: Int, _ id: String, _ what: String, _ condition: (DemoJob) -> Bool) async throws -> DemoJob {
        let end = ContinuousClock.now + .seconds(bound)
        var last: DemoJob?
        while ContinuousClock.now < end {
            let job = try await show(step, id)
            if condition(job) { return job }
            if job.isTerminal {
                throw StepFailure(step: step, message: "job \(id) (\(job.key ?? "")) ended \(job.summary), expected \(what)")
            }
            last = job
            try await Task.sleep(for: .milliseconds(100))
        }
        throw StepFailure(step: step, message: "job \(id) was not \(what) within \(Int(bound)) s (last seen \(last?.summary ?? "-"))")
    }

    /// One API call; failing to reach the API fails the step.
    private func request(_ step: Int, _ method: String, _ path: String, json: String? = nil) async throws -> DemoAPIClient.Response {
        do {
            return try await api.request(method, path, json: json)
        } catch {
            throw StepFailure(step: step, message: error.description)
        }
    }

    /// `worker 2`, from the job's worker id.
    private func label(_ job: DemoJob) -> String {
        workers.first { $0.child.pid == job.workerPID }?.label ?? (job.worker ?? "no worker")
    }
}

/// The step being told (read when the story is interrupted).
private final class CurrentStep: Sendable {
    private let value = Mutex(0)
    var step: Int {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
