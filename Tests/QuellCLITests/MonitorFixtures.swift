import Foundation
@testable import QuellCLI

/// Snapshots shared by the monitor rendering and JSON tests.
enum MonitorFixtures {
    /// 2025-06-01 12:00:00 UTC
    static let now = Date(timeIntervalSince1970: 1_748_779_200)

    static let empty = MonitorSnapshot(takenAt: now)

    /// Two queues (one with a very long name), a live and a stale worker,
    /// three running jobs (45 %, a cancelling one at 0 % with a stale
    /// heartbeat, one at 100 % past its expected duration), two events.
    static let busy = MonitorSnapshot(
        takenAt: now,
        counts: .init(queued: 12, running: 2, cancelling: 1, completed: 1_200, completedWithErrors: 4, failed: 3,
                      cancelled: 2, timedOut: 1),
        queues: [
            .init(name: "default", depth: 12, ratePerSecond: 4.5),
            .init(name: "a-very-long-queue-name-for-the-onedrive-tenant-imports-that-goes-on-and-on-and-on-forever",
                  depth: 0, ratePerSecond: nil),
        ],
        workers: [
            .init(id: "host-a:1234", queues: ["default", "mail"], busy: 3, slots: 4,
                  startedAt: now.addingTimeInterval(-7_500), heartbeatAgeSeconds: 1.2, stale: false),
            .init(id: "host-b.example.internal:99", queues: ["default"], busy: 0, slots: 4,
                  startedAt: now.addingTimeInterval(-300), heartbeatAgeSeconds: 42, stale: true),
        ],
        running: [
            .init(id: "01JABCDEFGHJKMNPQRSTVWXYZ0", type: "demo.sync", tenant: "acme", key: "onedrive:kb-42",
                  status: .running, stage: "processing_files", current: 9, total: 20, percent: 45.2,
                  counters: [.init("synced", 8), .init("failed", 1)], elapsedSeconds: 65,
                  expectedDurationSeconds: 500, heartbeatAgeSeconds: 1, stale: false),
            .init(id: "01JABCDEFGHJKMNPQRSTVWXYZ1", type: "demo.sleep", tenant: "globex", status: .cancelling,
                  current: 0, total: 50, elapsedSeconds: 3, heartbeatAgeSeconds: 30, stale: true),
            .init(id: "01JABCDEFGHJKMNPQRSTVWXYZ2", type: "demo.sync", tenant: "acme", key: "inbox-1",
                  stage: "done", current: 200, total: 200, percent: 100, counters: [.init("synced", 200)],
                  elapsedSeconds: 3_725, expectedDurationSeconds: 2_300, heartbeatAgeSeconds: 0.5),
        ],
        events: [
            .init(time: now.addingTimeInterval(-1), jobId: "01JABCDEFGHJKMNPQRSTVWXYZ0", type: "demo.sync",
                  status: .running, version: 17, text: "processing_files 9/20"),
            .init(time: now.addingTimeInterval(-2), jobId: "01JABCDEFGHJKMNPQRSTVWXYZ9", type: "demo.sync",
                  status: .completedWithErrors, version: 212, text: "synced 198, failed 2"),
        ]
    )
}
