import Foundation
import Testing
@testable import QuellCLI

/// The snapshot as data: counts, progress fraction, and the `--json` form.
@Suite struct MonitorSnapshotTests {
    @Test func countsBySubscriptAndTotal() {
        var counts = MonitorSnapshot.StatusCounts()
        for (index, status) in MonitorSnapshot.Status.allCases.enumerated() { counts[status] = index + 1 }
        #expect(counts.queued == 1 && counts.pausing == 4 && counts.paused == 5 && counts.timedOut == 10
                && counts.completedWithErrors == 7)
        #expect(counts.total == 55)
        #expect(MonitorFixtures.busy.counts.total == 1_225)
    }

    @Test func statusNamesMatchTheCommandLine() {
        #expect(MonitorSnapshot.Status.allCases.map(\.rawValue) == jobStatusNames)
    }

    @Test func fractionPrefersPercentThenCurrentOverTotal() {
        func job(current: Int? = nil, total: Int? = nil, percent: Double? = nil) -> MonitorSnapshot.RunningJob {
            .init(id: "j", type: "t", tenant: "a", current: current, total: total, percent: percent,
                  elapsedSeconds: 0, heartbeatAgeSeconds: 0)
        }
        #expect(job(current: 1, total: 4, percent: 50).fraction == 0.5)
        #expect(job(current: 1, total: 4).fraction == 0.25)
        #expect(job(current: 9, total: 0).fraction == nil)
        #expect(job(current: 9).fraction == nil)
        #expect(job(percent: 250).fraction == 1)
        #expect(job(percent: -1).fraction == 0)
        #expect(job(current: 3, total: 2).fraction == 1)
        #expect(job(current: 1, total: 4, percent: .nan).fraction == 0.25)
    }

    @Test func jsonRoundTrips() throws {
        let data = try MonitorFixtures.busy.jsonData()
        #expect(try MonitorSnapshot.fromJSON(data) == MonitorFixtures.busy)
        #expect(try MonitorSnapshot.fromJSON(MonitorFixtures.empty.jsonData(pretty: false)) == MonitorFixtures.empty)
    }

    /// Stable snake_case keys, ISO-8601 UTC dates, absent optionals as null.
    @Test func jsonShapeIsExact() throws {
        let now = MonitorFixtures.now
        let snapshot = MonitorSnapshot(
            takenAt: now,
            counts: .init(queued: 1, running: 1),
            queues: [.init(name: "default", depth: 1)],
            workers: [.init(id: "h:1", queues: ["default"], busy: 1, slots: 2, startedAt: now,
                            heartbeatAgeSeconds: 0.5, stale: false)],
            running: [.init(id: "J1", type: "demo.sleep", tenant: "acme", status: .cancelling,
                            counters: [.init("synced", 3)], elapsedSeconds: 2, heartbeatAgeSeconds: 1)],
            events: [.init(time: now, jobId: "J1", type: "demo.sleep", status: .cancelling, version: 4,
                           text: "cancel requested")]
        )
        let json = String(decoding: try snapshot.jsonData(pretty: false), as: UTF8.self)
        #expect(json == """
            {"counts":{"cancelled":0,"cancelling":0,"completed":0,"completed_with_errors":0,"failed":0,\
            "paused":0,"pausing":0,\
            "queued":1,"running":1,"timed_out":0},\
            "events":[{"job_id":"J1","status":"cancelling","text":"cancel requested",\
            "time":"2025-06-01T12:00:00Z","type":"demo.sleep","version":4}],\
            "queues":[{"depth":1,"name":"default","rate_per_second":null}],\
            "running":[{"counters":[{"name":"synced","value":3}],"current":null,"elapsed_seconds":2,\
            "expected_duration_seconds":null,"heartbeat_age_seconds":1,"id":"J1","key":null,"percent":null,\
            "stage":null,"stale":false,"status":"cancelling","tenant":"acme","total":null,"type":"demo.sleep"}],\
            "taken_at":"2025-06-01T12:00:00Z",\
            "workers":[{"busy":1,"heartbeat_age_seconds":0.5,"id":"h:1","queues":["default"],"slots":2,\
            "stale":false,"started_at":"2025-06-01T12:00:00Z"}]}
            """)
    }

    /// What another process (the Redis side) may write: missing optionals
    /// are accepted as well as nulls.
    @Test func jsonWithoutOptionalKeysDecodes() throws {
        let json = """
            {"taken_at": "2025-06-01T12:00:00Z",
             "counts": {"queued": 0, "running": 1, "cancelling": 0, "completed": 0, "completed_with_errors": 0,
                        "failed": 0, "cancelled": 0, "timed_out": 0},
             "queues": [{"name": "default", "depth": 3}],
             "workers": [],
             "running": [{"id": "J", "type": "demo.sync", "tenant": "acme", "status": "running", "counters": [],
                          "elapsed_seconds": 1.5, "heartbeat_age_seconds": 0, "stale": false, "percent": 12.5}],
             "events": []}
            """
        let snapshot = try MonitorSnapshot.fromJSON(Data(json.utf8))
        #expect(snapshot.takenAt == MonitorFixtures.now)
        #expect(snapshot.queues == [.init(name: "default", depth: 3, ratePerSecond: nil)])
        #expect(snapshot.running.first?.percent == 12.5)
        #expect(snapshot.running.first?.key == nil)
    }

    @Test func unknownStatusIsRejected() {
        let json = #"{"time": "2025-06-01T12:00:00Z", "job_id": "J", "type": "t", "status": "done", "version": 1, "text": ""}"#
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        #expect(throws: DecodingError.self) { try decoder.decode(MonitorSnapshot.Event.self, from: Data(json.utf8)) }
    }
}
