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
        /// A note kept on the prompt line until the next one (`quell demo`'s story).
        case story(String)
        /// End the monitor, as `q` does.
        case quit
    }

    /// Seconds between two refreshes.
    static let interval: Duration = .milliseconds(250)

    /// Runs until `q` or Ctrl-C, or `.quit` from `external`. The first
    /// snapshot is read before the terminal is touched, so an unreachable
    /// Redis is a plain error (exit 3).
    ///
    /// `external` feeds inputs from outside (the demo's story lines, and its
    /// end). On SIGINT/SIGTERM/SIGHUP the terminal is restored; then the
    /// process dies of that signal, or, with `onSignal`, that runs instead
    /// (and the monitor is left to end by `.quit`).
    static func run(store: JobStore, settings: SnapshotSource.Settings, color: Bool,
                    external: AsyncStream<Input>? = nil, onSignal: (@Sendable (Int32) -> Void)? = nil) async throws {
        let source = SnapshotSource(store: store, settings: settings)
        let first = try await source.start()

        let session = TerminalSession()
        let interactive = Terminal.isTerminal(STDIN_FILENO)
        try session.start(rawMode: interactive, onSignal: onSignal)
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
        let externalTask = Task {
            guard let external else { return }
            for await input in external { feed.yield(input) }
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
                    cancels.append(act("cancel", id, feed) { try await store.cancel(id: id, tenant: nil) })
                case .pause(let id):
                    cancels.append(act("pause", id, feed) { try await store.pause(id: id, tenant: nil) })
                case .resume(let id):
                    cancels.append(act("resume", id, feed) { try await store.resume(id: id, tenant: nil) })
                }
            case .resize(let newSize):
                size = newSize
            case .snapshot(let snapshot):
                state.update(snapshot)
            case .trouble(let text):
                state.trouble = text
            case .notice(let text):
                state.note(text, now: now)
            case .story(let text):
                state.note(text, now: now, seconds: .infinity)
            case .quit:
                break loop
            }
            frames.show(state.lines(width: size.columns, height: size.rows, color: color, now: now))
        }
        await frames.close()
        pollTask.cancel()
        resizeTask.cancel()
        externalTask.cancel()
        keys?.stop()
        keyTask.cancel()
        await keys?.join()
        feed.finish()
        session.stop()
        // A cancel (pause, resume) asked for just before quitting still reaches Redis.
        for cancel in cancels { await cancel.value }
    }

    /// Runs a cancel, pause or resume off the key loop; its outcome becomes a note.
    private static func act(_ what: String, _ id: String, _ feed: AsyncStream<Input>.Continuation,
                            _ call: @escaping @Sendable () async throws -> Job) -> Task<Void, Never> {
        Task {
            do {
                let job = try await call()
                feed.yield(.notice("job \(id) \(job.status.rawValue)"))
            } catch {
                feed.yield(.notice("\(what) failed: \(error)"))
            }
        }
    }
}
