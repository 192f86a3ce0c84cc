import Glibc
import Synchronization

/// Errors of a streamed response body.
public enum HTTPStreamError: Error, Sendable, Equatable {
    /// The client closed the connection, a write failed, or the server is shutting down.
    case clientDisconnected
}

/// Writes a streamed response body. Each write is handed to the connection's own thread,
/// which does the socket write; the call returns once the bytes are written, so a slow
/// client slows the producer down. Safe to use from any task.
public final class HTTPBodyWriter: Sendable {
    let channel: StreamChannel

    init(channel: StreamChannel) { self.channel = channel }

    /// Writes bytes. Throws `HTTPStreamError.clientDisconnected` once the client has gone.
    public func write(_ bytes: [UInt8]) async throws {
        try await channel.write(bytes)
    }

    /// Writes a string as UTF-8.
    public func write(_ text: String) async throws {
        try await channel.write(Array(text.utf8))
    }

    /// Writes one Server-Sent Event.
    public func send(_ event: ServerSentEvent) async throws {
        try await channel.write(event.encoded)
    }

    /// Writes an SSE comment line (`: text`), the usual keep-alive ping.
    public func sendComment(_ text: String = "") async throws {
        var line = ":"
        if !text.isEmpty { line += " " + text.replacingNewlines() }
        try await channel.write(Array((line + "\n\n").utf8))
    }

    /// False once the client has gone or the stream has ended.
    public var isConnected: Bool { !channel.isClosed }
}

/// One Server-Sent Event (`text/event-stream`).
public struct ServerSentEvent: Sendable, Equatable {
    /// `id:` field (what the client sends back as `Last-Event-ID`).
    public var id: String?
    /// `event:` field (the event type; clients default to `message`).
    public var event: String?
    /// The data; each line becomes its own `data:` line.
    public var data: String
    /// `retry:` field, the reconnection delay in milliseconds.
    public var retry: Int?

    /// An event from its fields.
    public init(id: String? = nil, event: String? = nil, data: String, retry: Int? = nil) {
        self.id = id
        self.event = event
        self.data = data
        self.retry = retry
    }

    /// The event as sent on the wire, ending with the blank line.
    public var encoded: [UInt8] {
        var s = ""
        if let id { s += "id: \(id.replacingNewlines())\n" }
        if let event { s += "event: \(event.replacingNewlines())\n" }
        if let retry { s += "retry: \(retry)\n" }
        for line in data.split(separator: "\n", omittingEmptySubsequences: false) {
            s += "data: "
            s += line.hasSuffix("\r") ? line.dropLast() : line
            s += "\n"
        }
        s += "\n"
        return Array(s.utf8)
    }
}

extension String {
    /// CR and LF replaced by spaces (single-line SSE fields and comments).
    fileprivate func replacingNewlines() -> String {
        String(unicodeScalars.map { $0 == "\n" || $0 == "\r" ? " " : Character($0) })
    }
}

/// The hand-off between a stream's producer task and the connection thread. Writes queue
/// here with their continuations; a byte on a pipe wakes the connection thread, which
/// polls that pipe together with the socket (to notice the client going away).
final class StreamChannel: Sendable {
    struct PendingWrite: Sendable {
        var bytes: [UInt8]
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var pending: [PendingWrite] = []
        var closed = false
        var finished = false
    }

    private let state = Mutex(State())
    /// Read end, polled by the connection thread.
    let wakeFD: Int32
    private let signalFD: Int32

    /// Nil when no pipe could be made (out of descriptors).
    init?() {
        guard let (r, w) = makeNonBlockingPipe() else { return nil }
        wakeFD = r
        signalFD = w
    }

    deinit {
        Glibc.close(wakeFD)
        Glibc.close(signalFD)
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    func write(_ bytes: [UInt8]) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            let accepted = state.withLock { s -> Bool in
                guard !s.closed else { return false }
                s.pending.append(PendingWrite(bytes: bytes, continuation: c))
                return true
            }
            if accepted { signal() } else { c.resume(throwing: HTTPStreamError.clientDisconnected) }
        }
    }

    /// The producer is done (returned or threw).
    func finish() {
        state.withLock { $0.finished = true }
        signal()
    }

    /// Connection side: the queued writes and whether the producer has finished.
    func take() -> (writes: [PendingWrite], finished: Bool) {
        var scratch: UInt8 = 0
        while read(wakeFD, &scratch, 1) > 0 {}
        return state.withLock { s in
            let w = s.pending
            s.pending = []
            return (w, s.finished)
        }
    }

    /// No more writes: fails the queued ones and every later one.
    func close() {
        let failed = state.withLock { s -> [PendingWrite] in
            s.closed = true
            let w = s.pending
            s.pending = []
            return w
        }
        for w in failed { w.continuation.resume(throwing: HTTPStreamError.clientDisconnected) }
    }

    private func signal() {
        var one: UInt8 = 1
        _ = Glibc.write(signalFD, &one, 1)  // a full pipe already means "wake up"
    }
}
