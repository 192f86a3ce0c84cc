#if canImport(Glibc)
import Glibc
#endif
import QuellSystem
import Synchronization

/// A terminal's size in character cells.
public struct TerminalSize: Sendable, Hashable {
    public var rows: Int
    public var columns: Int

    public init(rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
    }
}

/// An error from a terminal system call.
public struct TerminalError: Error, Sendable, Equatable, CustomStringConvertible {
    public var operation: String
    public var errno: Int32

    public init(operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }

    public var description: String { "\(operation) failed: \(String(cString: strerror(errno)))" }
}

/// Stateless terminal queries and writes on file descriptors.
public enum Terminal {
    /// Whether `fd` is a terminal (`isatty`).
    public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// The size of the terminal on `fd` (ioctl `TIOCGWINSZ`), or nil when
    /// `fd` is not a terminal or reports a zero size.
    public static func size(fd: Int32 = STDOUT_FILENO) -> TerminalSize? {
        var window = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &window) == 0, window.ws_row > 0, window.ws_col > 0 else { return nil }
        return TerminalSize(rows: Int(window.ws_row), columns: Int(window.ws_col))
    }

    /// Writes all of `text` to `fd`, retrying on EINTR and short writes.
    /// Returns false on an error (e.g. the terminal went away).
    @discardableResult
    public static func write(_ text: String, fd: Int32 = STDOUT_FILENO) -> Bool {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    if errno == EAGAIN {  // non-blocking and full: wait, don't spin
                        var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                        _ = poll(&descriptor, 1, 100)
                        continue
                    }
                    return false
                }
                offset += written
            }
            return true
        }
    }

    /// `settings` switched to raw input: no line buffering, no echo, no
    /// signal keys (Ctrl-C arrives as a byte), no flow control or CR→NL
    /// mapping, 8-bit characters, reads return after one byte. Output
    /// processing (`\n` → `\r\n`) is kept so stray prints stay readable.
    public static func makeRaw(_ settings: termios) -> termios {
        var raw = settings
        raw.c_iflag &= ~tcflag_t(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON)
        raw.c_lflag &= ~tcflag_t(ECHO | ECHONL | ICANON | ISIG | IEXTEN)
        raw.c_cflag &= ~tcflag_t(CSIZE | PARENB)
        raw.c_cflag |= tcflag_t(CS8)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        return raw
    }
}

/// One full-screen terminal session: raw mode, alternate screen, hidden
/// cursor — and, above all, putting everything back.
///
/// `restore()` is idempotent and is also run at process exit (`atexit`) and
/// on SIGINT, SIGTERM and SIGHUP (after which the process dies of that same
/// signal, so its parent sees the usual status), once `start` has been
/// called. While raw, Ctrl-C is not a signal but a key (`Key.ctrlC`).
public final class TerminalSession: Sendable {
    public let input: Int32
    public let output: Int32

    private struct State {
        var original: termios?
        var alternateScreen = false
        var cursorHidden = false
    }

    private let state = Mutex(State())
    private let signalWatcher = Mutex<SignalWatcher?>(nil)

    public init(input: Int32 = STDIN_FILENO, output: Int32 = STDOUT_FILENO) {
        self.input = input
        self.output = output
    }

    /// Whether raw mode is currently on.
    public var isRaw: Bool { state.withLock { $0.original != nil } }

    /// The signals after which `start` restores the terminal by default.
    public static let exitSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// Enters raw mode, the alternate screen and hides the cursor (each
    /// optional), and registers the restore hooks: at process exit, and on
    /// `restoreOnSignals`. After restoring on a signal, `onSignal` runs; when
    /// nil, the process dies of that signal (the usual exit status).
    public func start(rawMode: Bool = true, alternateScreen: Bool = true, hideCursor: Bool = true,
                      restoreOnSignals: [Int32] = TerminalSession.exitSignals,
                      onSignal: (@Sendable (Int32) -> Void)? = nil) throws(TerminalError) {
        ActiveSessions.shared.register(self)
        if !restoreOnSignals.isEmpty { installSignalHandlers(restoreOnSignals, onSignal: onSignal) }
        if rawMode { try enterRawMode() }
        if alternateScreen { enterAlternateScreen() }
        if hideCursor { self.hideCursor() }
    }

    /// Saves the current settings of `input` and switches it to raw mode.
    public func enterRawMode() throws(TerminalError) {
        let result: TerminalError? = state.withLock { state in
            guard state.original == nil else { return nil }
            var current = termios()
            guard tcgetattr(input, &current) == 0 else { return TerminalError(operation: "tcgetattr", errno: errno) }
            var raw = Terminal.makeRaw(current)
            guard tcsetattr(input, TCSAFLUSH, &raw) == 0 else { return TerminalError(operation: "tcsetattr", errno: errno) }
            state.original = current
            return nil
        }
        if let result { throw result }
    }

    /// Puts back the settings saved by `enterRawMode`.
    public func exitRawMode() {
        state.withLock { state in
            guard var original = state.original else { return }
            _ = tcsetattr(input, TCSAFLUSH, &original)
            state.original = nil
        }
    }

    public func enterAlternateScreen() {
        state.withLock { state in
            guard !state.alternateScreen else { return }
            Terminal.write(ANSI.enterAlternateScreen + ANSI.clearScreen + ANSI.home, fd: output)
            state.alternateScreen = true
        }
    }

    public func leaveAlternateScreen() {
        state.withLock { state in
            guard state.alternateScreen else { return }
            Terminal.write(ANSI.resetAttributes + ANSI.leaveAlternateScreen, fd: output)
            state.alternateScreen = false
        }
    }

    public func hideCursor() {
        state.withLock { state in
            guard !state.cursorHidden else { return }
            Terminal.write(ANSI.hideCursor, fd: output)
            state.cursorHidden = true
        }
    }

    public func showCursor() {
        state.withLock { state in
            guard state.cursorHidden else { return }
            Terminal.write(ANSI.showCursor, fd: output)
            state.cursorHidden = false
        }
    }

    public func clear() { Terminal.write(ANSI.clearScreen + ANSI.home, fd: output) }

    public func moveCursor(row: Int, column: Int) { Terminal.write(ANSI.moveCursor(row: row, column: column), fd: output) }

    /// Writes `text` to the output.
    public func write(_ text: String) { Terminal.write(text, fd: output) }

    /// Draws `lines` as one frame (see `ANSI.frame`).
    public func draw(_ lines: [String]) { Terminal.write(ANSI.frame(lines), fd: output) }

    /// The size of the output terminal.
    public var size: TerminalSize? { Terminal.size(fd: output) }

    /// Shows the cursor, leaves the alternate screen and restores the saved
    /// terminal settings. Safe to call any number of times, from any thread.
    public func restore() {
        showCursor()
        leaveAlternateScreen()
        exitRawMode()
    }

    /// Restores, and stops the signal handlers installed by `start`.
    public func stop() {
        restore()
        signalWatcher.withLock { watcher in
            watcher?.cancel()
            watcher = nil
        }
        ActiveSessions.shared.unregister(self)
    }

    private func installSignalHandlers(_ signals: [Int32], onSignal: (@Sendable (Int32) -> Void)?) {
        signalWatcher.withLock { watcher in
            guard watcher == nil else { return }
            // A signal the process inherited as ignored (e.g. SIGHUP under
            // nohup) stays ignored.
            let watched = signals.filter { SignalWatcher.disposition(of: $0) != .ignore }
            watcher = SignalWatcher(watched) { [weak self] signal in
                self?.restore()
                ActiveSessions.shared.restoreAll()
                if let onSignal {
                    onSignal(signal)
                    return
                }
                // Die of the same signal so the parent sees the usual status.
                Glibc.signal(signal, SIG_DFL)
                kill(getpid(), signal)
                exit(128 + signal)
            }
        }
    }
}

/// Sessions to restore at process exit.
final class ActiveSessions: Sendable {
    static let shared = ActiveSessions()

    private let sessions = Mutex<[ObjectIdentifier: TerminalSession]>([:])
    private let atexitInstalled = Atomic<Bool>(false)

    func register(_ session: TerminalSession) {
        sessions.withLock { $0[ObjectIdentifier(session)] = session }
        if atexitInstalled.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged {
            atexit { ActiveSessions.shared.restoreAll() }
        }
    }

    func unregister(_ session: TerminalSession) {
        _ = sessions.withLock { $0.removeValue(forKey: ObjectIdentifier(session)) }
    }

    func restoreAll() {
        let all = sessions.withLock { Array($0.values) }
        for session in all { session.restore() }
    }
}
