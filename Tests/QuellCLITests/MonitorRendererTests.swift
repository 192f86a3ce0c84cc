import Foundation
import QuellTestSupport
import Testing
@testable import QuellCLI
@testable import QuellTerminal

/// Monitor rendering at fixed widths, compared with exact text.
@Suite struct MonitorRendererTests {
    private func screen(_ snapshot: MonitorSnapshot, width: Int, height: Int, selected: Int?,
                        prompt: String? = nil) -> String {
        let lines = MonitorRenderer.screen(snapshot, width: width, height: height, selected: selected,
                                           color: false, prompt: prompt)
        #expect(lines.count == height)
        return lines.joined(separator: "\n")
    }

    /// 80 columns: long queue name, ids, owner and event text truncated with
    /// an ellipsis; a stale worker; 45 %, 0 % (cancelling, stale) and 100 %
    /// bars; the selected (cancelling) job marked.
    @Test func busyAt80Columns() {
        #expect(screen(MonitorFixtures.busy, width: 80, height: 26, selected: 1) == """
            Quell monitor  2025-06-01 12:00:00 UTC            1225 jobs, 2 workers (1 stale)
            queued 12  running 2  cancelling 1  completed 1200  completed_with_errors 4
            failed 3  cancelled 2  timed_out 1

            QUEUES (2)                                                        DEPTH   RATE/S
            default                                                              12     4.50
            a-very-long-queue-name-for-the-onedrive-tenant-imports-that-g…        0        -

            WORKERS (2, 1 stale)          QUEUES                     BUSY     UP HEARTBEAT
            host-a:1234                   default,mail                3/4  2h05m 1s
            host-b.example.internal:99    default                     0/4  5m00s 42s STALE

            RUNNING (3)    TYPE        TENANT/KEY     STATUS     PROGRESS               DONE
              01JABCDEFGH… demo.sync   acme/onedrive… running    █████░░░░░░░  45%      9/20
                elapsed 1m05s/8m20s  hb 1s  stage processing_files  synced 8  failed 1
            > 01JABCDEFGH… demo.sleep  globex         cancelling ░░░░░░░░░░░░   0%      0/50
                elapsed 3s  hb 30s STALE
              01JABCDEFGH… demo.sync   acme/inbox-1   running    ████████████ 100%   200/200
                elapsed 1h02m/38m20s  hb 0s  stage done  synced 200

            EVENTS   JOB          TYPE        STATUS                VER TEXT
            11:59:59 01JABCDEFGH… demo.sync   running                17 processing_files 9/…
            11:59:58 01JABCDEFGH… demo.sync   completed_with_errors 212 synced 198, failed 2


            ↑/↓ select  c cancel  p pause/resume  q quit
            """)
    }

    /// 120 columns: full ids and names, wider bars.
    @Test func busyAt120Columns() {
        #expect(screen(MonitorFixtures.busy, width: 120, height: 26, selected: 0) == """
            Quell monitor  2025-06-01 12:00:00 UTC                                                    1225 jobs, 2 workers (1 stale)
            queued 12  running 2  cancelling 1  completed 1200  completed_with_errors 4  failed 3  cancelled 2  timed_out 1

            QUEUES (2)                                                                                                DEPTH   RATE/S
            default                                                                                                      12     4.50
            a-very-long-queue-name-for-the-onedrive-tenant-imports-that-goes-on-and-on-and-on-forever                     0        -

            WORKERS (2, 1 stale)                                QUEUES                                       BUSY     UP HEARTBEAT
            host-a:1234                                         default,mail                                  3/4  2h05m 1s
            host-b.example.internal:99                          default                                       0/4  5m00s 42s STALE

            RUNNING (3)                  TYPE             TENANT/KEY                STATUS     PROGRESS                         DONE
            > 01JABCDEFGHJKMNPQRSTVWXYZ0 demo.sync        acme/onedrive:kb-42       running    █████████░░░░░░░░░░░  45%        9/20
                elapsed 1m05s/8m20s  hb 1s  stage processing_files  synced 8  failed 1
              01JABCDEFGHJKMNPQRSTVWXYZ1 demo.sleep       globex                    cancelling ░░░░░░░░░░░░░░░░░░░░   0%        0/50
                elapsed 3s  hb 30s STALE
              01JABCDEFGHJKMNPQRSTVWXYZ2 demo.sync        acme/inbox-1              running    ████████████████████ 100%     200/200
                elapsed 1h02m/38m20s  hb 0s  stage done  synced 200

            EVENTS   JOB                        TYPE             STATUS                VER TEXT
            11:59:59 01JABCDEFGHJKMNPQRSTVWXYZ0 demo.sync        running                17 processing_files 9/20
            11:59:58 01JABCDEFGHJKMNPQRSTVWXYZ9 demo.sync        completed_with_errors 212 synced 198, failed 2



            ↑/↓ select  c cancel  p pause/resume  q quit
            """)
    }

    @Test func zeroJobsAt80Columns() {
        #expect(screen(MonitorFixtures.empty, width: 80, height: 18, selected: nil) == """
            Quell monitor  2025-06-01 12:00:00 UTC                         0 jobs, 0 workers
            queued 0  running 0  cancelling 0  completed 0  completed_with_errors 0
            failed 0  cancelled 0  timed_out 0

            QUEUES (0)                                                        DEPTH   RATE/S
              no queues

            WORKERS (0)                   QUEUES                     BUSY     UP HEARTBEAT
              no live workers

            RUNNING (0)    TYPE        TENANT/KEY     STATUS     PROGRESS               DONE
              no running jobs

            EVENTS   JOB          TYPE        STATUS VER TEXT
              no recent events


            ↑/↓ select  c cancel  p pause/resume  q quit
            """)
    }

    /// A short screen with the prompt: the running jobs scroll to keep the
    /// selected one visible, other sections are cut, events shortened.
    @Test func promptLineAndScrollingAt80Columns() {
        let text = screen(MonitorFixtures.busy, width: 80, height: 18, selected: 2,
                          prompt: "Cancel job 01JABCDEFGHJKMNPQRSTVWXYZ2? (y/n)")
        #expect(text == """
            Quell monitor  2025-06-01 12:00:00 UTC            1225 jobs, 2 workers (1 stale)
            queued 12  running 2  cancelling 1  completed 1200  completed_with_errors 4
            failed 3  cancelled 2  timed_out 1

            QUEUES (2)                                                        DEPTH   RATE/S
              … 2 hidden

            WORKERS (2, 1 stale)          QUEUES                     BUSY     UP HEARTBEAT
              … 2 hidden

            RUNNING (3)    TYPE        TENANT/KEY     STATUS     PROGRESS               DONE
            > 01JABCDEFGH… demo.sync   acme/inbox-1   running    ████████████ 100%   200/200
                elapsed 1h02m/38m20s  hb 0s  stage done  synced 200
              … 2 more

            EVENTS   JOB          TYPE        STATUS                VER TEXT
            11:59:59 01JABCDEFGH… demo.sync   running                17 processing_files 9/…
            Cancel job 01JABCDEFGHJKMNPQRSTVWXYZ2? (y/n)
            """)
    }

    @Test func onceAt80Columns() {
        #expect(MonitorRenderer.plain(MonitorFixtures.busy, width: 80) == """
            Quell monitor  2025-06-01 12:00:00 UTC            1225 jobs, 2 workers (1 stale)
            queued 12  running 2  cancelling 1  completed 1200  completed_with_errors 4
            failed 3  cancelled 2  timed_out 1

            QUEUES (2)                                                        DEPTH   RATE/S
            default                                                              12     4.50
            a-very-long-queue-name-for-the-onedrive-tenant-imports-that-g…        0        -

            WORKERS (2, 1 stale)          QUEUES                     BUSY     UP HEARTBEAT
            host-a:1234                   default,mail                3/4  2h05m 1s
            host-b.example.internal:99    default                     0/4  5m00s 42s STALE

            RUNNING (3)    TYPE        TENANT/KEY     STATUS     PROGRESS               DONE
              01JABCDEFGH… demo.sync   acme/onedrive… running    █████░░░░░░░  45%      9/20
                elapsed 1m05s/8m20s  hb 1s  stage processing_files  synced 8  failed 1
              01JABCDEFGH… demo.sleep  globex         cancelling ░░░░░░░░░░░░   0%      0/50
                elapsed 3s  hb 30s STALE
              01JABCDEFGH… demo.sync   acme/inbox-1   running    ████████████ 100%   200/200
                elapsed 1h02m/38m20s  hb 0s  stage done  synced 200

            EVENTS   JOB          TYPE        STATUS                VER TEXT
            11:59:59 01JABCDEFGH… demo.sync   running                17 processing_files 9/…
            11:59:58 01JABCDEFGH… demo.sync   completed_with_errors 212 synced 198, failed 2
            """ + "\n")
    }

    @Test func onceWithZeroJobsAt120Columns() {
        #expect(MonitorRenderer.plain(MonitorFixtures.empty, width: 120) == """
            Quell monitor  2025-06-01 12:00:00 UTC                                                                 0 jobs, 0 workers
            queued 0  running 0  cancelling 0  completed 0  completed_with_errors 0  failed 0  cancelled 0  timed_out 0

            QUEUES (0)                                                                                                DEPTH   RATE/S
              no queues

            WORKERS (0)                                         QUEUES                                       BUSY     UP HEARTBEAT
              no live workers

            RUNNING (0)                  TYPE             TENANT/KEY                STATUS     PROGRESS                         DONE
              no running jobs

            EVENTS   JOB                        TYPE             STATUS VER TEXT
              no recent events
            """ + "\n")
    }

    @Test func rendererJSONIsThePrettySnapshot() throws {
        let text = try MonitorRenderer.json(MonitorFixtures.empty)
        #expect(text.hasSuffix("}\n"))
        #expect(try MonitorSnapshot.fromJSON(Data(text.utf8)) == MonitorFixtures.empty)
        #expect(text.contains("\n  \"taken_at\" : \"2025-06-01T12:00:00Z\""))
    }

    @Test func selectedRowIsInvertedAcrossTheWidthWithColour() {
        let lines = MonitorRenderer.screen(MonitorFixtures.busy, width: 80, height: 26, selected: 1, color: true)
        let selected = lines[15]
        #expect(selected.hasPrefix("\u{1B}[7;1m> \u{1B}[0m\u{1B}[7m01JABCDEFGH… demo.sleep  globex"))
        #expect(TextLayout.visibleWidth(selected) == 80)
        #expect(TextLayout.stripANSI(selected).hasSuffix("0/50"))
        let stale = lines[16]
        #expect(stale == "    elapsed 3s  hb 30s\u{1B}[1;31m STALE\u{1B}[0m")
        #expect(lines[25] == "\u{1B}[2m↑/↓ select  c cancel  p pause/resume  q quit\u{1B}[0m")
        #expect(lines[0] == "\u{1B}[1mQuell monitor\u{1B}[0m  2025-06-01 12:00:00 UTC            "
            + "\u{1B}[2m1225 jobs, 2 workers (1 stale)\u{1B}[0m")
    }

    @Test func colourOffEmitsNoEscapes() {
        let lines = MonitorRenderer.screen(MonitorFixtures.busy, width: 80, height: 26, selected: 1, color: false)
        #expect(!lines.joined().contains("\u{1B}"))
        #expect(!MonitorRenderer.plain(MonitorFixtures.busy).contains("\u{1B}"))
    }

    @Test func asciiModeBarsAndFooter() {
        let lines = MonitorRenderer.screen(MonitorFixtures.busy, width: 80, height: 26, selected: nil,
                                           color: false, ascii: true)
        #expect(lines[13] == "  01JABCDEFGH… demo.sync   acme/onedrive… running    #####-------  45%      9/20")
        #expect(lines[17].contains("############ 100%"))
        #expect(lines[25] == "up/down select  c cancel  p pause/resume  q quit")
    }

    @Test func selectionIsClampedAndNilMarksNothing() {
        let clamped = MonitorRenderer.screen(MonitorFixtures.busy, width: 80, height: 26, selected: 99, color: false)
        #expect(clamped[17].hasPrefix("> 01JABCDEFGH… demo.sync   acme/inbox-1"))
        let none = MonitorRenderer.screen(MonitorFixtures.busy, width: 80, height: 26, selected: nil, color: false)
        #expect(!none.contains { $0.hasPrefix(">") })
        let empty = MonitorRenderer.screen(MonitorFixtures.empty, width: 80, height: 18, selected: 0, color: false)
        #expect(!empty.contains { $0.hasPrefix(">") })
    }

    @Test func controlCharactersFromRedisCannotReachTheTerminal() {
        var snapshot = MonitorFixtures.empty
        snapshot.queues = [.init(name: "evil\u{1B}[2J\nqueue", depth: 1)]
        snapshot.running = [.init(id: "x\ry", type: "t\u{7}", tenant: "a\u{9B}b", stage: "s\nt",
                                  counters: [.init("c\u{0}", 1)], elapsedSeconds: 1, heartbeatAgeSeconds: 1)]
        let text = MonitorRenderer.screen(snapshot, width: 80, height: 30, selected: 0, color: false).joined()
            + MonitorRenderer.plain(snapshot, width: 80).replacingOccurrences(of: "\n", with: "")
        #expect(!text.unicodeScalars.contains { $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) })
        #expect(text.contains("evil\u{FFFD}[2J\u{FFFD}queue"))
    }

    @Test func tinyScreensStillGiveExactlyHeightLines() {
        for height in 0...12 {
            for width in [0, 1, 5, 20, 80] {
                let lines = MonitorRenderer.screen(MonitorFixtures.busy, width: width, height: height, selected: 1,
                                                   color: true, prompt: height % 2 == 0 ? "Cancel? (y/n)" : nil)
                #expect(lines.count == (width > 0 ? height : 0))
                for line in lines { #expect(TextLayout.visibleWidth(line) <= width) }
            }
        }
        let three = MonitorRenderer.screen(MonitorFixtures.busy, width: 80, height: 3, selected: nil, color: false)
        #expect(three == [
            "Quell monitor  2025-06-01 12:00:00 UTC            1225 jobs, 2 workers (1 stale)",
            "queued 12  running 2  cancelling 1  completed 1200  completed_with_errors 4",
            "↑/↓ select  c cancel  p pause/resume  q quit",
        ])
    }

    /// Random-ish snapshots (long, wide and empty strings, huge and odd
    /// numbers, missing optionals) at many sizes: no line is ever wider than
    /// the screen, and the screen always has exactly `height` lines.
    /// CPU-heavy (seconds in a debug build): run on a thread of its own, so the
    /// cooperative pool's two threads stay free for the suites that wait on Redis.
    @Test func noLineEverExceedsTheWidth() async throws {
        let problems = try await onOwnThread { self.linesWiderThanTheScreen() }
        #expect(problems.isEmpty, "\(problems.prefix(5))")
    }

    private func linesWiderThanTheScreen() -> [String] {
        var problems: [String] = []
        var random = SplitMix64(seed: 0x5EED)
        for _ in 0..<300 {
            let snapshot = randomSnapshot(&random)
            let width = Int.random(in: 1...200, using: &random)
            let height = Int.random(in: 1...60, using: &random)
            let selected: Int? = Bool.random(using: &random) ? Int.random(in: -2...12, using: &random) : nil
            let color = Bool.random(using: &random)
            let prompt: String? = Bool.random(using: &random) ? "Cancel job \(randomText(&random))? (y/n)" : nil
            let lines = MonitorRenderer.screen(snapshot, width: width, height: height, selected: selected,
                                               color: color, prompt: prompt, ascii: Bool.random(using: &random))
            if lines.count != height { problems.append("height \(height): \(lines.count) lines") }
            for line in lines where TextLayout.visibleWidth(line) > width {
                problems.append("width \(width): \(line)")
            }
            let plain = MonitorRenderer.plain(snapshot, width: width)
            for line in plain.split(separator: "\n", omittingEmptySubsequences: false) where TextLayout.width(line) > width {
                problems.append("plain width \(width): \(line)")
            }
        }
        return problems
    }

    private func randomText(_ random: inout SplitMix64) -> String {
        let pieces = ["a", "Z", "-", ":", "é", "日本", "😀", "x".padding(toLength: 40, withPad: "y", startingAt: 0), "", " "]
        return (0..<Int.random(in: 0...6, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
    }

    private func randomNumber(_ random: inout SplitMix64) -> Int {
        [0, 1, 7, 42, 999, 123_456, 9_999_999_999, -3].randomElement(using: &random)!
    }

    private func randomSeconds(_ random: inout SplitMix64) -> Double {
        [0, 0.4, 5, 125, 3_725, 200_000, 1e12, -1, .nan, .infinity].randomElement(using: &random)!
    }

    private func randomSnapshot(_ random: inout SplitMix64) -> MonitorSnapshot {
        var counts = MonitorSnapshot.StatusCounts()
        for status in MonitorSnapshot.Status.allCases { counts[status] = randomNumber(&random) }
        let now = MonitorFixtures.now
        return MonitorSnapshot(
            takenAt: now,
            counts: counts,
            queues: (0..<Int.random(in: 0...4, using: &random)).map { _ in
                .init(name: randomText(&random), depth: randomNumber(&random),
                      ratePerSecond: Bool.random(using: &random) ? randomSeconds(&random) : nil)
            },
            workers: (0..<Int.random(in: 0...4, using: &random)).map { _ in
                .init(id: randomText(&random), queues: [randomText(&random), randomText(&random)],
                      busy: randomNumber(&random), slots: randomNumber(&random),
                      startedAt: now.addingTimeInterval(-abs(randomSeconds(&random).isFinite ? randomSeconds(&random) : 1)),
                      heartbeatAgeSeconds: randomSeconds(&random), stale: Bool.random(using: &random))
            },
            running: (0..<Int.random(in: 0...8, using: &random)).map { _ in
                .init(id: randomText(&random), type: randomText(&random), tenant: randomText(&random),
                      key: Bool.random(using: &random) ? randomText(&random) : nil,
                      status: Bool.random(using: &random) ? .running : .cancelling,
                      stage: Bool.random(using: &random) ? randomText(&random) : nil,
                      current: Bool.random(using: &random) ? randomNumber(&random) : nil,
                      total: Bool.random(using: &random) ? randomNumber(&random) : nil,
                      percent: Bool.random(using: &random) ? [0, 45.2, 99.99, 100, 250, -5, .nan].randomElement(using: &random)! : nil,
                      counters: (0..<Int.random(in: 0...4, using: &random)).map { _ in .init(randomText(&random), randomNumber(&random)) },
                      elapsedSeconds: randomSeconds(&random),
                      expectedDurationSeconds: Bool.random(using: &random) ? randomSeconds(&random) : nil,
                      heartbeatAgeSeconds: randomSeconds(&random), stale: Bool.random(using: &random))
            },
            events: (0..<Int.random(in: 0...10, using: &random)).map { _ in
                .init(time: now, jobId: randomText(&random), type: randomText(&random),
                      status: MonitorSnapshot.Status.allCases.randomElement(using: &random)!,
                      version: randomNumber(&random), text: randomText(&random))
            }
        )
    }
}

/// A seeded generator, so a failure can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
