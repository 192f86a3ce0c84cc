import Glibc
import QuellSystem

extension Terminal {
    /// Terminal sizes of `fd`, one each time the window is resized
    /// (SIGWINCH). The stream ends when the consumer stops iterating.
    public static func resizes(fd: Int32 = STDOUT_FILENO) -> AsyncStream<TerminalSize> {
        let (stream, continuation) = AsyncStream.makeStream(of: TerminalSize.self, bufferingPolicy: .bufferingNewest(1))
        let watcher = SignalWatcher([SIGWINCH]) { _ in
            if let size = Terminal.size(fd: fd) { continuation.yield(size) }
        }
        continuation.onTermination = { _ in watcher.cancel() }
        return stream
    }
}
