import Foundation
import Quell

/// A JobStore on the test Redis with a key prefix of its own.
public func makeStore(_ name: String, clock: any QuellClock = SystemClock(), staleAfter: Double = 10,
               timeout: TimeoutPolicy = TimeoutPolicy()) -> JobStore {
    var config = QuellConfiguration(redisURL: TestRedis.url, prefix: TestRedis.prefix(name))
    config.staleAfter = staleAfter
    config.timeout = timeout
    return JobStore(redis: TestRedis.client(name), configuration: config, clock: clock)
}

extension JobStore {
    /// False once the job is gone (`notFound`); other errors throw.
    public func jobExists(_ id: String) async throws -> Bool {
        do {
            _ = try await job(id: id, tenant: nil)
            return true
        } catch {
            if case .notFound = error { return false }
            throw error
        }
    }

    /// Starts up to `count` jobs as worker `w` on the default queue.
    package func startJobs(_ count: Int = 1, worker: String = "w1", queues: [String] = ["default"]) async throws -> [StartedJob] {
        try await start(worker: worker, leasePrefix: "\(worker)#\(UInt32.random(in: 0...UInt32.max))#", queues: queues, count: count).started
    }

    /// Every event of one job, oldest first.
    public func allEvents(of id: String? = nil) async throws -> [JobEvent] {
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

extension JobStore {
    /// `--redis URL --prefix P`: the same Redis and keys, for a `quell` child process.
    public var cliArguments: [String] {
        ["--redis", configuration.redisURL.description, "--prefix", configuration.prefix]
    }

    /// A store on the same keys seen through another clock (e.g. one in the past).
    public func withClock(_ clock: any QuellClock, name: String = "other") -> JobStore {
        JobStore(redis: TestRedis.client(name), configuration: configuration, clock: clock)
    }
}
