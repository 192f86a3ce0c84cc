import Foundation
import Testing
@testable import QuellCLI
@testable import QuellTerminal

/// The live monitor's keys and prompt line, without a terminal.
@Suite struct MonitorInteractionTests {
    private let now = MonitorFixtures.now
    private var ids: [String] { MonitorFixtures.busy.running.map(\.id) }

    @Test func arrowsMoveTheSelectionWithinTheRunningJobs() {
        var state = MonitorInteraction(snapshot: MonitorFixtures.busy)
        #expect(state.selectedIndex == 0)
        #expect(state.handle(.up, now: now) == .none)
        #expect(state.handle(.down, now: now) == .redraw)
        #expect(state.handle(.character("j"), now: now) == .redraw)
        #expect(state.selectedIndex == 2)
        #expect(state.handle(.down, now: now) == .none)
        #expect(state.handle(.character("k"), now: now) == .redraw)
        #expect(state.selectedID == ids[1])
        #expect(state.handle(.home, now: now) == .redraw && state.selectedIndex == 0)
        #expect(state.handle(.end, now: now) == .redraw && state.selectedIndex == 2)
        // The selected row is the one marked in the rendering.
        let lines = state.lines(width: 120, height: 40, color: false, now: now)
        #expect(lines.contains { $0.hasPrefix("> \(ids[2])") })
    }

    @Test func theSelectionFollowsItsJobAcrossSnapshots() {
        var state = MonitorInteraction(snapshot: MonitorFixtures.busy)
        _ = state.handle(.down, now: now)
        var next = MonitorFixtures.busy
        next.running.removeFirst()  // the job above ends: the selected one moves up a row
        state.update(next)
        #expect(state.selectedID == ids[1] && state.selectedIndex == 0)
        next.running.removeFirst()  // the selected job ends: the one now at its place
        state.update(next)
        #expect(state.selectedID == ids[2])
        next.running.removeAll()
        state.update(next)
        #expect(state.selectedID == nil && state.selectedIndex == nil)
        #expect(state.handle(.character("c"), now: now) == .redraw)
        #expect(state.promptLine(now: now) == "no running job to cancel")
    }

    @Test func cancelAsksAndOnlyYesCancels() {
        var state = MonitorInteraction(snapshot: MonitorFixtures.busy)
        #expect(state.handle(.character("c"), now: now) == .redraw)
        #expect(state.promptLine(now: now) == "Cancel job \(ids[0]) (demo.sync, acme/onedrive:kb-42)? y/n")
        let lines = state.lines(width: 120, height: 40, color: false, now: now)
        #expect(lines.last == "Cancel job \(ids[0]) (demo.sync, acme/onedrive:kb-42)? y/n")
        // Other keys, even q, answer "no" while asking.
        #expect(state.handle(.character("q"), now: now) == .redraw)
        #expect(state.promptLine(now: now) == "not cancelled")
        #expect(state.promptLine(now: now.addingTimeInterval(MonitorInteraction.noteSeconds)) == nil)

        _ = state.handle(.character("c"), now: now)
        #expect(state.handle(.character("y"), now: now) == .cancel(ids[0]))
        #expect(state.promptLine(now: now) == "cancelling job \(ids[0])…")
        state.note("job \(ids[0]) cancelling", now: now)
        #expect(state.promptLine(now: now) == "job \(ids[0]) cancelling")
    }

    @Test func aCancellingJobIsNotAskedAgain() {
        var state = MonitorInteraction(snapshot: MonitorFixtures.busy)
        _ = state.handle(.down, now: now)  // the fixture's cancelling job
        #expect(state.handle(.character("c"), now: now) == .redraw)
        #expect(state.promptLine(now: now) == "job \(ids[1]) is already cancelling")
    }

    @Test func aConfirmationForAJobThatEndedIsDropped() {
        var state = MonitorInteraction(snapshot: MonitorFixtures.busy)
        _ = state.handle(.character("c"), now: now)
        var next = MonitorFixtures.busy
        next.running.removeFirst()
        state.update(next)
        #expect(state.promptLine(now: now) == "job \(ids[0]) is no longer running")
        #expect(state.handle(.character("y"), now: now) == .none)  // not asking any more: y does nothing
    }

    @Test func quitKeysAndTrouble() {
        var state = MonitorInteraction(snapshot: MonitorFixtures.empty)
        #expect(state.handle(.character("x"), now: now) == .none)
        #expect(state.handle(.character("q"), now: now) == .quit)
        #expect(state.handle(.ctrlC, now: now) == .quit)
        _ = state.handle(.character("c"), now: now)
        #expect(state.handle(.escape, now: now) == .redraw && state.promptLine(now: now) == nil)
        state.trouble = "Redis unavailable: cannot connect to Redis: 127.0.0.1:1: Connection refused"
        #expect(state.promptLine(now: now) == "Redis unavailable: cannot connect to Redis: 127.0.0.1:1: Connection refused (retrying)")
        state.update(MonitorFixtures.empty)
        #expect(state.promptLine(now: now) == nil)
    }

    /// `p` pauses the selected running job and resumes a paused one, at once
    /// (nothing is lost by a pause: no y/n); pausing and cancelling jobs say why not.
    @Test func pTogglesPauseOnTheSelectedJob() {
        var snapshot = MonitorFixtures.busy
        snapshot.running[2].status = .paused
        var state = MonitorInteraction(snapshot: snapshot)
        #expect(state.handle(.character("p"), now: now) == .pause(ids[0]))
        #expect(state.promptLine(now: now) == "pausing job \(ids[0])…")
        _ = state.handle(.down, now: now)
        #expect(state.handle(.character("p"), now: now) == .redraw)
        #expect(state.promptLine(now: now) == "job \(ids[1]) is cancelling: it cannot be paused")
        _ = state.handle(.down, now: now)
        #expect(state.handle(.character("P"), now: now) == .resume(ids[2]))
        #expect(state.promptLine(now: now) == "resuming job \(ids[2])…")
        snapshot.running[2].status = .pausing
        state.update(snapshot)
        #expect(state.handle(.character("p"), now: now) == .redraw)
        #expect(state.promptLine(now: now) == "job \(ids[2]) is already pausing (resume it once it is paused)")
        state.update(MonitorFixtures.empty)
        #expect(state.handle(.character("p"), now: now) == .redraw)
        #expect(state.promptLine(now: now) == "no job to pause or resume")
    }
}
