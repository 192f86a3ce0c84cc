import FoundationEssentials
import Quell

/// Builds `MonitorSnapshot`s from the store, as an admin (every tenant).
///
/// **Once** (`quell monitor --once`/`--json`, `SnapshotSource.once`): stats,
/// the running, cancelling, pausing and paused jobs, the newest events, and queue rates from
/// the start events of the last `rateWindow` seconds.
///
/// **Live** (`start()`, then `next()` about four times a second): follows the
/// events stream instead of re-reading jobs. Each `next()` costs
///
/// * one `XRANGE` for the events since the last call (every change of every
///   job is one event carrying the job, so the local map of running and
///   cancelling jobs is updated from them), and
/// * once per `statsInterval`: one `stats` script call (counts, queue depths,
///   workers) and one pipelined round trip of `HMGET heartbeat_at` for the
///   running jobs (heartbeats are not events).
///
/// When the counts of running + cancelling jobs disagree with the local map
/// (an event trimmed from the stream before it was read, say), or the stream
/// runs more than `maxPagesPerPoll` pages ahead, the running jobs are
/// re-read (at most once per `reloadInterval`) and the cursor jumps ahead.
/// Queue rates count the jobs that started from each queue (an event with
/// status `running` and no progress yet) over the last `rateWindow` seconds.
actor SnapshotSource {
    struct Settings: Sendable {
        /// A heartbeat older than this is flagged stale.
        var staleAfter: Double
        /// How often `next()` refreshes stats and heartbeats.
        var statsInterval: Double = 1
        /// Newest events kept for the screen.
        var eventsKept: Int = 50
        /// Seconds over which queue rates are averaged.
        var rateWindow: Double = 10
        /// Events read per `XRANGE`.
        var pageSize: Int = 1_000
        /// Pages per `next()` before skipping ahead (the stream outruns the screen).
        var maxPagesPerPoll: Int = 8
        /// Least time between two re-reads of the running jobs.
        var reloadInterval: Double = 5

        init(staleAfter: Double) {
            self.staleAfter = staleAfter
        }
    }

    let store: JobStore
    let settings: Settings

    /// Stream id of the last event applied (nil: the stream was empty).
    private(set) var cursor: String?
    /// Jobs in `shownStatuses` by id, kept from events.
    private var active: [String: Job] = [:]
    private var stats: QueueStats?
    private var statsAt: Date?
    /// Newest first.
    private var recent: [MonitorSnapshot.Event] = []
    /// When each observed start happened (poll time) and its queue.
    private var starts: [(time: Date, queue: String)] = []
    private var followingSince: Date?
    private var lastReload: Date?
    /// How many times the running jobs were re-read (tests look).
    private(set) var reloads = 0

    init(store: JobStore, settings: Settings) {
        self.store = store
        self.settings = settings
    }

    private var now: Date { store.clock.now() }

    // MARK: - Once

    /// One snapshot from scratch: stats, the jobs in `shownStatuses`, the
    /// newest `events` events, rates from the last `rateWindow` seconds of
    /// the stream (by Redis's clock).
    static func once(store: JobStore, settings: Settings, events: Int = 20, scan: Int = 500) async throws(QuellError)
        -> MonitorSnapshot {
        let stats = try await store.stats(tenant: nil)
        let jobs = try await loadActive(store)
        let newest = try await recentEvents(store, upTo: nil, count: max(events, scan))
        let redisNow = try await store.serverTime()
        // Starts per queue over the window, or over the part the scanned events cover.
        let windowStart = redisNow.addingTimeInterval(-settings.rateWindow)
        var covered = settings.rateWindow
        if newest.count >= max(events, scan), let oldest = newest.last.flatMap({ streamTime($0.id) }), oldest > windowStart {
            covered = max(redisNow.timeIntervalSince(oldest), 0.001)
        }
        var counted: [String: Int] = [:]
        for e in newest where isStart(e.job) {
            if let t = streamTime(e.id), t >= windowStart { counted[e.job.queue, default: 0] += 1 }
        }
        let rates = stats.queues.reduce(into: [String: Double]()) { $0[$1.name] = Double(counted[$1.name] ?? 0) / covered }
        return makeSnapshot(now: store.clock.now(), stats: stats, active: Array(jobs.values),
                            events: newest.prefix(events).map { event(id: $0.id, job: $0.job) },
                            rates: rates, staleAfter: settings.staleAfter)
    }

    // MARK: - Live

    /// Starts following: the cursor at the newest event, then the running
    /// jobs, stats and the newest events; returns the first snapshot.
    func start() async throws(QuellError) -> MonitorSnapshot {
        cursor = try await store.lastEventID()
        try await reload()
        stats = try await store.stats(tenant: nil)
        let at = now
        statsAt = at
        if let cursor {  // (an empty stream has nothing to show yet; what comes next() reads)
            recent = try await Self.recentEvents(store, upTo: cursor, count: settings.eventsKept)
                .map { Self.event(id: $0.id, job: $0.job) }
        }
        followingSince = at
        return snapshot(at)
    }

    /// The next snapshot: new events applied; stats and heartbeats refreshed
    /// when `statsInterval` has passed.
    func next() async throws(QuellError) -> MonitorSnapshot {
        if followingSince == nil { return try await start() }
        let at = now
        var pages = 0
        while true {
            let page = try await store.events(after: cursor, limit: settings.pageSize)
            for e in page { apply(id: e.id, job: e.job, observedAt: at) }
            if let last = page.last { cursor = last.id }
            if page.count < settings.pageSize { break }
            pages += 1
            if pages >= settings.maxPagesPerPoll {
                // Too far behind to replay: jump to the newest event and re-read.
                cursor = try await store.lastEventID() ?? cursor
                try await reload()
                starts.removeAll()
                followingSince = at
                break
            }
        }
        if let statsAt, at.timeIntervalSince(statsAt) < settings.statsInterval { return snapshot(at) }
        let fresh = try await store.stats(tenant: nil)
        stats = fresh
        statsAt = at
        let expected = Self.shownStatuses.reduce(0) { $0 + (fresh.counts[$1] ?? 0) }
        if expected != active.count, lastReload.map({ at.timeIntervalSince($0) >= settings.reloadInterval }) ?? true {
            try await reload()
        } else {
            try await refreshHeartbeats()
        }
        return snapshot(at)
    }

    /// Applies one event: recent list, start count, and the running map
    /// (only when the event is newer than what the map holds).
    private func apply(id: String, job: Job, observedAt: Date) {
        recent.insert(Self.event(id: id, job: job), at: 0)
        if recent.count > settings.eventsKept { recent.removeLast(recent.count - settings.eventsKept) }
        if Self.isStart(job) { starts.append((observedAt, job.queue)) }
        if let known = active[job.id], known.version >= job.version { return }
        active[job.id] = Self.shownStatuses.contains(job.status) ? job : nil
    }

    /// Re-reads every job in `shownStatuses`.
    private func reload() async throws(QuellError) {
        active = try await Self.loadActive(store)
        lastReload = now
        reloads += 1
    }

    /// One pipelined round trip (`JobStore.heartbeats`) for the running jobs' heartbeats.
    private func refreshHeartbeats() async throws(QuellError) {
        let ids = Array(active.keys)
        if ids.isEmpty { return }
        let beats = try await store.heartbeats(of: ids)
        for id in ids {
            guard let beat = beats[id] else {
                active[id] = nil  // deleted meanwhile
                continue
            }
            if let at = beat.heartbeatAt { active[id]?.heartbeatAt = at }
        }
    }

    private func snapshot(_ at: Date) -> MonitorSnapshot {
        var rates: [String: Double]? = nil
        if let since = followingSince {
            let span = min(settings.rateWindow, at.timeIntervalSince(since))
            starts.removeAll { at.timeIntervalSince($0.time) > settings.rateWindow }
            if span >= 1 {
                var counted: [String: Int] = [:]
                for s in starts { counted[s.queue, default: 0] += 1 }
                rates = (stats?.queues ?? []).reduce(into: [:]) { $0[$1.name] = Double(counted[$1.name] ?? 0) / span }
            }
        }
        return Self.makeSnapshot(now: at, stats: stats, active: Array(active.values), events: recent, rates: rates,
                                 staleAfter: settings.staleAfter)
    }

    // MARK: - Building blocks

    static func makeSnapshot(now: Date, stats: QueueStats?, active: [Job], events: [MonitorSnapshot.Event],
                             rates: [String: Double]?, staleAfter: Double) -> MonitorSnapshot {
        var counts = MonitorSnapshot.StatusCounts()
        for (status, n) in stats?.counts ?? [:] { counts[Self.status(status)] = n }
        let queues = (stats?.queues ?? []).map { MonitorSnapshot.Queue(name: $0.name, depth: $0.depth, ratePerSecond: rates?[$0.name]) }
        // Busy slots from the running jobs themselves (kept current by the events
        // stream), not the registration's count, which is only as fresh as the
        // worker's last heartbeat (it showed 0/4 while three jobs ran).
        var runningOn: [String: Int] = [:]
        for job in active { if let w = job.worker { runningOn[w, default: 0] += 1 } }
        let workers = (stats?.workers ?? []).sorted { $0.id < $1.id }.map { w -> MonitorSnapshot.Worker in
            let beat = w.lastBeat ?? w.startedAt ?? now
            let age = max(0, now.timeIntervalSince(beat))
            return MonitorSnapshot.Worker(id: w.id, queues: w.queues, busy: runningOn[w.id] ?? 0, slots: w.slots,
                                          startedAt: w.startedAt ?? beat, heartbeatAgeSeconds: age, stale: age > staleAfter)
        }
        let running = active.sorted {
            let a = $0.startedAt ?? $0.createdAt, b = $1.startedAt ?? $1.createdAt
            return a != b ? a < b : $0.id < $1.id
        }.map { runningJob($0, now: now, staleAfter: staleAfter) }
        return MonitorSnapshot(takenAt: now, counts: counts, queues: queues, workers: workers, running: running,
                               events: events)
    }

    static func runningJob(_ job: Job, now: Date, staleAfter: Double) -> MonitorSnapshot.RunningJob {
        let beat = job.heartbeatAt ?? job.startedAt ?? job.createdAt
        let age = max(0, now.timeIntervalSince(beat))
        let p = job.progress
        return MonitorSnapshot.RunningJob(
            id: job.id, type: job.type, tenant: job.tenant, key: job.key, status: status(job.status),
            stage: p?.stage, current: p?.current, total: p?.total, percent: p?.percent,
            counters: JobText.orderedCounters(p?.counters ?? [:]).map { MonitorSnapshot.Counter($0.name, $0.value) },
            elapsedSeconds: max(0, now.timeIntervalSince(job.startedAt ?? job.createdAt)),
            expectedDurationSeconds: job.expectedDurationSeconds, heartbeatAgeSeconds: age, stale: age > staleAfter)
    }

    static func status(_ status: JobStatus) -> MonitorSnapshot.Status {
        MonitorSnapshot.Status(rawValue: status.rawValue)!
    }

    /// A start event: status running and no progress yet (start clears it;
    /// every progress write sets it).
    static func isStart(_ job: Job) -> Bool { job.status == .running && job.progress == nil }

    /// The time in a stream id (`1732412345678-0`).
    static func streamTime(_ id: String) -> Date? {
        guard let ms = Double(id.prefix { $0 != "-" }) else { return nil }
        return Date(timeIntervalSince1970: ms / 1000)
    }

    static func event(id: String, job: Job) -> MonitorSnapshot.Event {
        MonitorSnapshot.Event(time: streamTime(id) ?? job.createdAt, jobId: job.id, type: job.type,
                              status: status(job.status), version: job.version, text: eventText(job))
    }

    /// What changed, in a few words: `enqueued`, `started on host:1 (attempt 1/3)`,
    /// `processing_files 9/20`, `cancel requested (user)`, `synced 198, failed 2`.
    static func eventText(_ job: Job) -> String {
        let counters = JobText.counters(job.progress)
        switch job.status {
        case .queued:
            if job.version == 1 { return "enqueued" + (job.key.map { " (key \($0))" } ?? "") }
            if job.resumes > 0 && job.startedAt != nil && job.worker == nil && job.error == nil {
                return "resumed (\(job.resumes)×)"
            }
            return "requeued" + (job.error.map { ": \($0)" } ?? "")
        case .running:
            guard let p = job.progress else {
                return "started" + (job.worker.map { " on \($0)" } ?? "") + " (attempt \(job.attempt)/\(job.maxAttempts))"
            }
            var parts: [String] = []
            if let stage = p.stage, !stage.isEmpty { parts.append(stage) }
            let amount = JobText.progress(p)
            if amount != "-" { parts.append(amount) }
            if let counters { parts.append("(\(counters))") }
            return parts.isEmpty ? "progress" : parts.joined(separator: " ")
        case .cancelling:
            return "cancel requested (\(job.cancel?.reason ?? "user"))"
        case .pausing:
            return "pause requested"
        case .paused:
            return "paused" + (counters.map { "; \($0)" } ?? "")
        case .cancelled:
            return "by \(job.cancel?.reason ?? "user")" + (counters.map { "; \($0)" } ?? "")
        case .completed, .completedWithErrors:
            return counters ?? "done"
        case .failed, .timedOut:
            return (job.error ?? job.status.rawValue) + (counters.map { "; \($0)" } ?? "")
        }
    }

    /// The statuses of the jobs the running list shows: those a worker runs,
    /// and paused ones (so they can be resumed from the monitor).
    static let shownStatuses: [JobStatus] = [.running, .cancelling, .pausing, .paused]

    /// Every job in `shownStatuses` (up to 5000 of each), by id.
    static func loadActive(_ store: JobStore) async throws(QuellError) -> [String: Job] {
        var out: [String: Job] = [:]
        for status in shownStatuses {
            var cursor: String? = nil
            var read = 0
            repeat {
                let page = try await store.jobs(status: status, tenant: nil, limit: 1_000, cursor: cursor)
                for job in page.jobs { out[job.id] = job }
                read += page.jobs.count
                cursor = page.nextCursor
            } while cursor != nil && read < 5_000
        }
        return out
    }

    /// The newest `count` events up to `upTo` (inclusive; nil = the newest), newest first.
    static func recentEvents(_ store: JobStore, upTo: String?, count: Int) async throws(QuellError)
        -> [(id: String, job: Job)] {
        try await store.latestEvents(upTo: upTo, count: count).map { ($0.id, $0.job) }
    }
}
