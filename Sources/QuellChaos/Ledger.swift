import Foundation
import Synchronization

/// Seconds since the epoch, as every process on this host sees the clock
/// (the execution log's microseconds are on the same clock).
func now() -> Double { Date().timeIntervalSince1970 }

/// What a submitted job was for the mix.
enum Kind: String, Sendable, CaseIterable {
    case noop, sync, sleep, anchor
    var sleeps: Bool { self == .sleep || self == .anchor }
}

/// A job the API accepted (202), with when its answer arrived.
struct Accepted: Sendable {
    let id: String
    let tenant: String
    let kind: Kind
    let key: String?
    let at: Double
}

/// An answered cancel: the HTTP status, the job's status in the answer, and
/// whether the job had started by then (the answer's attempt and started_at).
struct CancelAnswer: Sendable {
    let id: String
    let http: Int
    let status: String
    let attempt: Int
    let started: Bool
    let at: Double
}

/// Everything the drivers saw and did, shared across their threads: what
/// the final checks compare Redis's state and the logs against.
final class Ledger: Sendable {
    struct State {
        var accepted: [Accepted] = []
        var submitted = 0
        var conflicts = 0
        var duplicateTriggers = 0
        var unavailableAnswers = 0
        var cancels: [CancelAnswer] = []
        var pauses = 0
        var resumes = 0
        /// Jobs a pause was answered for (paused or pausing) and not yet resumed → when.
        var paused: [String: (tenant: String, at: Double)] = [:]
        var wallProbes = 0
        var breaches: [String] = []
        /// Worker pid → when it was seen dead after kill -9 (reaped).
        var deaths: [Int32: Double] = [:]
        /// Worker pid → when it was frozen (SIGSTOP) and resumed.
        var freezes: [Int32: (from: Double, to: Double)] = [:]
        /// When Redis was killed (just before SIGKILL) and its fsync policy then.
        var redisKills: [(at: Double, policy: String)] = []
        var counters: [String: Int] = [:]
        /// When the everysec phase began (nil before).
        var everysecFrom: Double?
        var timeline: [String] = []
    }
    let state = Mutex(State())
    let started = now()

    /// Records a breach (the same text once: a sampler may see one breach many times).
    func breach(_ text: String) {
        let new = state.withLock { s -> Bool in
            if s.breaches.contains(text) { return false }
            s.breaches.append(text)
            return true
        }
        if new { log("BREACH: \(text)") }
    }

    func count(_ name: String, by n: Int = 1) { state.withLock { $0.counters[name, default: 0] += n } }
    func counter(_ name: String) -> Int { state.withLock { $0.counters[name] ?? 0 } }

    /// Records a step of the fault schedule (printed at the end).
    func event(_ text: String) {
        let line = String(format: "%7.1fs  ", now() - started) + text
        state.withLock { $0.timeline.append(line) }
        log(text)
    }

    func log(_ text: String) {
        FileHandle.standardError.write(Data((String(format: "[chaos %7.1fs] ", now() - started) + text + "\n").utf8))
    }

    /// Redis's documented loss window under `appendfsync everysec`: a write
    /// acknowledged up to 1 s before a crash may be lost, and aof.c may hold a
    /// write back up to 2 s while a background fsync is slow. So a fact the
    /// drivers observed at `t` may be undone by a Redis kill at `k` in the
    /// everysec phase when k − 2 s ≤ t ≤ k. Never under `always`.
    func inLossWindow(_ t: Double) -> Bool {
        state.withLock { s in s.redisKills.contains { $0.policy == "everysec" && t >= $0.at - 2 && t <= $0.at } }
    }

    var snapshot: State { state.withLock { $0 } }
}
