import Foundation
import Glibc
import Synchronization
import QuellSystem
import Testing
@testable import QuellTerminal

/// A pseudo-terminal pair, closed at deinit.
private final class PseudoTerminal {
    let main: Int32
    let secondary: Int32

    init() throws {
        var main: Int32 = -1
        var secondary: Int32 = -1
        guard openpty(&main, &secondary, nil, nil, nil) == 0 else {
            throw TerminalError(operation: "openpty", errno: errno)
        }
        self.main = main
        self.secondary = secondary
    }

    func setSize(rows: UInt16, columns: UInt16) {
        var window = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(secondary, UInt(TIOCSWINSZ), &window)
    }

    /// What the program wrote to the terminal so far.
    func drainOutput() -> String {
        var collected: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            var descriptor = pollfd(fd: main, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 50) > 0 else { break }
            let count = buffer.withUnsafeMutableBytes { read(main, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            collected.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: collected, as: UTF8.self)
    }

    deinit {
        close(main)
        close(secondary)
    }
}

private func localFlags(_ fd: Int32) -> tcflag_t {
    var settings = termios()
    _ = tcgetattr(fd, &settings)
    return settings.c_lflag
}

@Suite(.serialized) struct TerminalTests {
    @Test func sizeComesFromTheTerminal() throws {
        let pty = try PseudoTerminal()
        pty.setSize(rows: 30, columns: 100)
        #expect(Terminal.size(fd: pty.secondary) == TerminalSize(rows: 30, columns: 100))
        #expect(Terminal.isTerminal(pty.secondary))
    }

    @Test func sizeIsNilForAPipe() {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        #expect(Terminal.size(fd: fds[0]) == nil)
        #expect(!Terminal.isTerminal(fds[0]))
    }

    @Test func makeRawClearsLineModeEchoAndSignals() {
        var cooked = termios()
        cooked.c_lflag = tcflag_t(ECHO | ICANON | ISIG | IEXTEN)
        cooked.c_iflag = tcflag_t(ICRNL | IXON)
        cooked.c_oflag = tcflag_t(OPOST)
        let raw = Terminal.makeRaw(cooked)
        #expect(raw.c_lflag & tcflag_t(ECHO | ICANON | ISIG | IEXTEN) == 0)
        #expect(raw.c_iflag & tcflag_t(ICRNL | IXON) == 0)
        #expect(raw.c_oflag & tcflag_t(OPOST) != 0)
        #expect(raw.c_cflag & tcflag_t(CSIZE) == tcflag_t(CS8))
    }

    @Test func sessionEntersAndRestoresEverything() throws {
        let pty = try PseudoTerminal()
        let before = localFlags(pty.secondary)
        #expect(before & tcflag_t(ICANON) != 0)

        let session = TerminalSession(input: pty.secondary, output: pty.secondary)
        try session.start(restoreOnSignals: [])
        #expect(session.isRaw)
        #expect(localFlags(pty.secondary) & tcflag_t(ICANON | ECHO | ISIG) == 0)
        let entered = pty.drainOutput()
        #expect(entered.contains(ANSI.enterAlternateScreen))
        #expect(entered.contains(ANSI.hideCursor))

        session.draw(["hello"])
        #expect(pty.drainOutput().contains("hello"))

        session.stop()
        #expect(!session.isRaw)
        #expect(localFlags(pty.secondary) == before)
        let left = pty.drainOutput()
        #expect(left.contains(ANSI.leaveAlternateScreen))
        #expect(left.contains(ANSI.showCursor))

        session.restore()  // idempotent: writes nothing more
        #expect(pty.drainOutput() == "")
    }

    @Test func aSignalRestoresTheTerminal() async throws {
        let pty = try PseudoTerminal()
        let before = localFlags(pty.secondary)
        let received = Mutex<[Int32]>([])
        let session = TerminalSession(input: pty.secondary, output: pty.secondary)
        try session.start(restoreOnSignals: [SIGUSR2]) { signal in received.withLock { $0.append(signal) } }
        defer { session.stop() }
        #expect(session.isRaw)
        _ = pty.drainOutput()
        // Registration is asynchronous: signal until the handler has run.
        let deadline = ContinuousClock.now + .seconds(60)  // a hang guard
        while received.withLock({ $0.isEmpty }) && ContinuousClock.now < deadline {
            kill(getpid(), SIGUSR2)
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(received.withLock { $0.first } == SIGUSR2)
        #expect(!session.isRaw)
        #expect(localFlags(pty.secondary) == before)
        let output = pty.drainOutput()
        #expect(output.contains(ANSI.leaveAlternateScreen))
        #expect(output.contains(ANSI.showCursor))
    }

    @Test func resizesAreReported() async throws {
        let pty = try PseudoTerminal()
        pty.setSize(rows: 24, columns: 80)
        let seen = Mutex<TerminalSize?>(nil)
        let resizes = Terminal.resizes(fd: pty.secondary)
        let listener = Task {
            for await size in resizes {
                seen.withLock { $0 = size }
                return
            }
        }
        pty.setSize(rows: 50, columns: 132)
        // Registration is asynchronous: signal until a size has been seen.
        let deadline = ContinuousClock.now + .seconds(60)  // a hang guard
        while seen.withLock({ $0 == nil }) && ContinuousClock.now < deadline {
            kill(getpid(), SIGWINCH)
            try await Task.sleep(for: .milliseconds(10))
        }
        await listener.value
        #expect(seen.withLock { $0 } == TerminalSize(rows: 50, columns: 132))
    }

    @Test func rawModeOnANonTerminalFails() {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let session = TerminalSession(input: fds[0], output: fds[1])
        #expect(throws: TerminalError.self) { try session.enterRawMode() }
        #expect(!session.isRaw)
    }

    @Test func keyReaderDecodesFromItsOwnThread() async throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let reader = KeyReader(fd: fds[0], pollInterval: .milliseconds(10))
        reader.start()
        #expect(Terminal.write("j\u{1B}[Bq\u{1B}[6~\u{03}\u{1B}", fd: fds[1]))
        var keys: [Key] = []
        for await key in reader.keys {
            keys.append(key)
            if keys.count == 6 { break }
        }
        #expect(keys == [.character("j"), .down, .character("q"), .pageDown, .ctrlC, .escape])
        reader.stop()
        await reader.join()  // before the deferred close of the read end
        close(fds[1])
    }

    @Test func keyReaderFinishesAtEndOfInput() async {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let reader = KeyReader(fd: fds[0], pollInterval: .milliseconds(10))
        reader.start()
        Terminal.write("ab", fd: fds[1])
        close(fds[1])
        var keys: [Key] = []
        for await key in reader.keys { keys.append(key) }
        #expect(keys == [.character("a"), .character("b")])
        await reader.join()
    }

    @Test func joinReturnsForAReaderNeverStarted() async {
        let reader = KeyReader(fd: -1)
        reader.stop()
        await reader.join()
    }

    @Test func signalWatcherCallsTheHandler() async throws {
        let received = Mutex<[Int32]>([])
        let watcher = SignalWatcher([SIGUSR1]) { signal in received.withLock { $0.append(signal) } }
        defer { watcher.cancel() }
        // Registration is asynchronous: signal until it is seen.
        let deadline = ContinuousClock.now + .seconds(60)  // a hang guard
        while received.withLock({ $0.isEmpty }) && ContinuousClock.now < deadline {
            kill(getpid(), SIGUSR1)
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(received.withLock { $0.first } == SIGUSR1)
    }
}
