import QuellTestSupport
import Foundation
@testable import Quell

/// A JobStore on the test Redis with a key prefix of its own.
func makeStore(_ name: String, clock: any QuellClock = SystemClock(), staleAfter: Double = 10,
               timeout: TimeoutPolicy = TimeoutPolicy()) -> JobStore {
    var config = QuellConfiguration(redisURL: TestRedis.url, prefix: TestRedis.prefix(name))
    config.staleAfter = staleAfter
    config.timeout = timeout
    return JobStore(redis: TestRedis.client(name), configuration: config, clock: clock)
}

extension JobStore {
    /// Starts up to `count` jobs as worker `w` on the default queue.
    func startJobs(_ count: Int = 1, worker: String = "w1", queues: [String] = ["default"]) async throws -> [StartedJob] {
        try await start(worker: worker, leasePrefix: "\(worker)#\(UInt32.random(in: 0...UInt32.max))#", queues: queues, count: count).started
    }

    /// Every event of one job, oldest first.
    func allEvents(of id: String? = nil) async throws -> [JobEvent] {
        var out: [JobEvent] = []
        var after: String? = nil
        while true {
            let page = try await events(after: after, limit: 1000)
            if page.isEmpty { return out }
            out += page.filter { id == nil || $0.job.id == id }
            after = page.last!.id
        }
    }
}
