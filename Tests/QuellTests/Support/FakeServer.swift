import QuellTestSupport
import Foundation
import Glibc

/// A TCP server on 127.0.0.1 that misbehaves on purpose: never answers,
/// answers garbage, or hangs up. Each connection is served on its own thread.
final class FakeServer: @unchecked Sendable {
    enum Behaviour: Sendable {
        /// Accepts and reads, never writes.
        case silent
        /// Answers every read with these bytes.
        case reply([UInt8])
        /// Closes the connection after the first read.
        case hangUpAfterRead
        /// Reads and records (`received`), writes only what `answer` is given.
        case recording
    }

    /// Everything read so far, over all connections (`.recording`).
    var received: String { String(decoding: receivedBytes.current, as: UTF8.self) }
    private let receivedBytes = LockedBox<[UInt8]>([])

    let port: Int
    private let listener: Int32
    private let behaviour: Behaviour
    private let stopped = LockedBox(false)
    private let clients = LockedBox<[Int32]>([])

    init(_ behaviour: Behaviour) {
        self.behaviour = behaviour
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sp in
                _ = bind(fd, sp, len)
                _ = getsockname(fd, sp, &len)
            }
        }
        listen(fd, 16)
        listener = fd
        port = Int(UInt16(bigEndian: addr.sin_port))
        let t = Thread { [self] in acceptLoop() }
        t.start()
    }

    private func acceptLoop() {
        while !stopped.current {
            let fd = accept(listener, nil, nil)
            if fd < 0 { return }
            clients.withLock { $0.append(fd) }
            let behaviour = self.behaviour
            let receivedBytes = self.receivedBytes
            let t = Thread {
                var buf = [UInt8](repeating: 0, count: 4096)
                while true {
                    let n = read(fd, &buf, buf.count)
                    if n <= 0 { return }
                    switch behaviour {
                    case .silent: continue
                    case .recording: receivedBytes.withLock { $0.append(contentsOf: buf[0..<n]) }
                    case .reply(let bytes): _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                    case .hangUpAfterRead:
                        shutdown(fd, Int32(SHUT_RDWR))
                        return
                    }
                }
            }
            t.start()
        }
    }

    /// Writes `bytes` to the newest connection (`.recording`).
    func answer(_ bytes: String) {
        guard let fd = clients.current.last else { return }
        let data = Array(bytes.utf8)
        _ = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// Idempotent: a second close of the listener could close a descriptor
    /// number another thread has been given since.
    func stop() {
        let first = stopped.withLock { s -> Bool in
            defer { s = true }
            return !s
        }
        guard first else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for fd in clients.current { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    deinit { stop() }
}
