import Foundation
import Glibc
import QuellSystem
import Synchronization

/// `quell-bench http-enqueue`: POST /v1/jobs one job per request from N
/// keep-alive clients, each a blocking socket on a thread of its own (so the
/// client, not the cooperative pool, is what waits). bench/peers uses it as
/// Quell's producer and compares it with its Python client to show the
/// client is not what limits the rate. Prints `key value` lines:
/// first_send / last_reply (CLOCK_MONOTONIC seconds, the clock Python's
/// time.monotonic reads), jobs, jobs_per_s, cpu_s (this process).
/// Exits 1 when any request was not answered 202.
enum HTTPEnqueueBench {
    static func run(_ options: Options) async throws {
        let port = UInt16(options.int("port", 8080))
        let token = options.string("token", "bench")
        let jobs = options.int("jobs", 20_000)
        let clients = max(1, options.int("clients", 4))
        let body = options.string("body", #"{"type":"demo.noop"}"#)
        let request = Array(("POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)").utf8)
        let shared = Shared()
        let cpu0 = processCPU()
        let ends: [Double] = await withTaskGroup(of: Double.self) { group in
            for _ in 0..<clients {
                group.addTask {
                    await withCheckedContinuation { (done: CheckedContinuation<Double, Never>) in
                        OSThread.start {
                            do {
                                let connection = try Connection(port: port)
                                defer { connection.close() }
                                var first = true
                                while shared.next.add(1, ordering: .relaxed).oldValue < jobs {
                                    if first { let t = monotonic(); shared.firstSend.withLock { $0 = min($0, t) }; first = false }
                                    let status = try connection.exchange(request)
                                    if status != 202 { throw BenchFailure("POST /v1/jobs answered \(status)") }
                                }
                            } catch {
                                shared.failures.withLock { $0.append("\(error)") }
                            }
                            done.resume(returning: monotonic())
                        }
                    }
                }
            }
            var ends: [Double] = []
            for await end in group { ends.append(end) }
            return ends
        }
        let lastReply = ends.max() ?? monotonic()
        let first = shared.firstSend.withLock { $0 }
        if let failure = shared.failures.withLock({ $0.first }) {
            FileHandle.standardError.write(Data("http-enqueue: \(failure)\n".utf8))
            exit(1)
        }
        print("first_send \(first)")
        print("last_reply \(lastReply)")
        print("jobs \(jobs)")
        print("jobs_per_s \(Double(jobs) / (lastReply - first))")
        print("cpu_s \(processCPU() - cpu0)")
    }

    /// What the client threads share: the next job number, the first send, failures.
    final class Shared: Sendable {
        let next = Atomic<Int>(0)
        let firstSend = Mutex<Double>(.infinity)
        let failures = Mutex<[String]>([])
    }

    /// One keep-alive HTTP/1.1 connection to 127.0.0.1 with blocking I/O.
    final class Connection {
        private let fd: Int32
        private var buffer = [UInt8](repeating: 0, count: 65_536)
        private var pending: [UInt8] = []

        init(port: UInt16) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw BenchFailure("socket: \(errno)") }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard rc == 0 else { Glibc.close(fd); throw BenchFailure("connect to port \(port): errno \(errno)") }
        }

        func close() { Glibc.close(fd) }

        /// Sends one request and reads its response; returns the status code.
        func exchange(_ request: [UInt8]) throws -> Int {
            var sent = 0
            while sent < request.count {
                let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { throw BenchFailure("send: errno \(errno)") }
                sent += n
            }
            // Head, then Content-Length bytes of body (the API always sends one).
            var headEnd: Int? = nil
            while true {
                if let end = Self.find(pending, [13, 10, 13, 10]) { headEnd = end; break }
                try fill()
            }
            let head = String(decoding: pending[..<headEnd!], as: UTF8.self)
            let status = Int(head.split(separator: " ", maxSplits: 2).dropFirst().first ?? "") ?? 0
            var length = 0
            for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                length = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
            }
            let total = headEnd! + 4 + length
            while pending.count < total { try fill() }
            pending.removeFirst(total)
            return status
        }

        private func fill() throws {
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { throw BenchFailure("connection closed by the api (recv \(n), errno \(errno))") }
            pending.append(contentsOf: buffer[0..<n])
        }

        private static func find(_ haystack: [UInt8], _ needle: [UInt8]) -> Int? {
            guard haystack.count >= needle.count else { return nil }
            for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
                if Array(haystack[i..<(i + needle.count)]) == needle { return i }
            }
            return nil
        }
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// utime + stime of this process, seconds.
func processCPU() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}
