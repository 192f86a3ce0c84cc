import FoundationEssentials
import Glibc
import Quell
import QuellTerminal

/// The full-screen `quell monitor`: alternate screen, raw keys, a redraw for
/// each new snapshot (about four a second), each key and each resize.
///
/// Tasks feed one stream of inputs that a single loop consumes, so all state
/// lives in that loop: the key reader (its own thread), SIGWINCH resizes,
/// the poller (`SnapshotSource.next()` every 250 ms; Redis I/O runs on the
/// client's thread) and cancel requests. Frames are written by a
/// `FrameWriter` (its own thread), newest first. The terminal is restored on `q`,
/// Ctrl-C (a key while raw), and on SIGINT/SIGTERM/SIGHUP (TerminalSession).
enum LiveMonitor {
    enum Input: Sendable {
        case key(Key)
        case resize(TerminalSize)
        case snapshot(MonitorSnapshot)
        /// A refresh failed (Redis down, …).
        case trouble(String)
        /// A note for the prompt line (a cancel's outcome).
        case notice(String)
    }

    /// Seconds between two refreshes.
    static let interval: Duration = .milliseconds(250)

    /// Runs until `q` or Ctrl-C. The first snapshot is read before the
    /// terminal is touched, so an unreachable Redis is a plain error (exit 3).
    static func run(store: JobStore, settings: SnapshotSource.Settings, color: Bool) async throws {
        let source = SnapshotSource(store: store, settings: settings)
        let first = try await source.start()

        let session = TerminalSession()
        let interactive = Terminal.isTerminal(STDIN_FILENO)
        try session.start(rawMode: interactive)
        defer { session.stop() }

        let (inputs, feed) = AsyncStream.makeStream(of: Input.self)
        let keys = interactive ? KeyReader() : nil
        keys?.start()
        let keyTask = Task {
            guard let keys else { return }
            for await key in keys.keys { feed.yield(.key(key)) }
        }
        let resizeTask = Task {
            for await size in Terminal.resizes() { feed.yield(.resize(size)) }
        }
        let pollTask = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }
                do {
                    feed.yield(.snapshot(try await source.next()))
                } catch {
                    feed.yield(.trouble("\(error)"))
                }
            }
        }

        let frames = FrameWriter(session: session)
        var state = MonitorInteraction(snapshot: first)
        var size = session.size ?? TerminalSize(rows: 24, columns: 80)
        var cancels: [Task<Void, Never>] = []
        frames.show(state.lines(width: size.columns, height: size.rows, color: color, now: Date()))
        loop: for await input in inputs {
            let now = Date()
            switch input {
            case .key(let key):
                switch state.handle(key, now: now) {
                case .none: continue loop
                case .redraw: break
                case .quit: break loop
                case .cancel(let id):
                    cancels.append(Task {
                        do {
                            let job = try await store.cancel(id: id, tenant: nil)
                            feed.yield(.notice("job \(id) \(job.status.rawValue)"))
                        } catch {
                            feed.yield(.notice("cancel failed: \(error)"))
                        }
                    })
                }
            case .resize(let newSize):
                size = newSize
            case .snapshot(let snapshot):
                state.update(snapshot)
            case .trouble(let text):
                state.trouble = text
            case .notice(let text):
                state.note(text, now: now)
            }
            frames.show(state.lines(width: size.columns, height: size.rows, color: color, now: now))
        }
        await frames.close()
        pollTask.cancel()
        resizeTask.cancel()
        keys?.stop()
        keyTask.cancel()
        await keys?.join()
        feed.finish()
        session.stop()
        // A cancel confirmed just before quitting still reaches Redis.
        for cancel in cancels { await cancel.value }
    }
}
