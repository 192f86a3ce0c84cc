import Foundation
import Quell
import Testing

/// `GET /v1/stats`: counts per status, queue depths, workers.
@Suite struct StatsTests {
    @Test func countsQueuesAndWorkers() async throws {
        try await withAPI("stats") { h in
            for _ in 0..<3 { _ = try await h.enqueueID() }
            _ = try await h.enqueueID(#"{"type":"t","queue":"bulk"}"#)
            let cancelled = try await h.enqueueID()
            _ = try await h.call("POST", "/v1/jobs/\(cancelled)/cancel")
            _ = try await h.enqueueID(token: "tok-beta")
            let started = try await h.store.start(worker: "host:1", leasePrefix: "l#", queues: ["default"], count: 1).started
            _ = try await h.store.heartbeat(WorkerRegistration(id: "host:1", queues: ["default", "bulk"], slots: 4, busy: 1, startedAt: Date()),
                                            jobs: started.map { ($0.job.id, $0.lease) })

            let r = try await h.call("GET", "/v1/stats")
            #expect(r.status == 200)
            let counts = r.json["counts"]
            // acme: 3 on default (the oldest started: queues are FIFO) and 1 on bulk, 1 cancelled.
            #expect(counts?["queued"] == .number(3) && counts?["running"] == .number(1) && counts?["cancelled"] == .number(1))
            let betaCounts = try await h.call("GET", "/v1/stats", token: "tok-beta").json["counts"]
            #expect(betaCounts?["queued"] == .number(1) && betaCounts?["running"] == .number(0))
            #expect(Set(counts?.objectValue?.keys.map { $0 } ?? []) == Set(JobStatus.allCases.map(\.rawValue)))
            guard case .array(let queues)? = r.json["queues"] else { Issue.record("no queues"); return }
            #expect(queues.compactMap { $0["name"]?.stringValue } == ["bulk", "default"])
            #expect(queues.map { $0["depth"] } == [.number(1), .number(3)])  // bulk 1; default: acme 2 + beta 1
            guard case .array(let workers)? = r.json["workers"] else { Issue.record("no workers"); return }
            #expect(workers.count == 1 && workers.first?["id"] == .string("host:1") && workers.first?["busy"] == .number(1))
            #expect(try await h.call("GET", "/v1/stats?tenant=beta").status == 400)
        }
    }
}
