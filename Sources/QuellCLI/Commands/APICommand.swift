import FoundationEssentials
import QuellSystem
import Glibc
import Quell
import QuellAPI
import QuellHTTP
import QuellTerminal
import Synchronization

/// `quell api`: the HTTP/JSON API, with the shared `Reaper` running in-process.
/// Exit codes: 0 after SIGTERM/SIGINT, 1 when it cannot listen, 2 for usage
/// (including no tokens and no `--no-auth`).
enum APICommand {
    static func run(_ o: APIOptions, environment: [String: String]) async -> Int32 {
        let auth = APIAuth(tokens: o.tokens, adminToken: o.adminToken, noAuth: o.noAuth)
        guard auth.admitsAnyone else {
            printError("quell api: no API tokens configured: set QUELL_TOKENS=TOKEN=TENANT[,TOKEN=TENANT…] "
                + "and/or QUELL_ADMIN_TOKEN, or pass --no-auth (QUELL_NO_AUTH=1) to serve a single tenant 'default' "
                + "without authentication")
            return 2
        }
        let configuration: QuellConfiguration
        do {
            configuration = try o.redis.configuration(reaper: o.reaper)
        } catch {
            printError("quell api: \(error.description)")
            return error.exitCode
        }
        let store = JobStore(configuration: configuration, clientName: "quell-api")
        defer { store.redis.close() }
        let server = QuellAPIServer(
            store: store,
            configuration: QuellAPIConfiguration(http: HTTPServerConfiguration(host: o.host, port: o.port), auth: auth))

        // Watch for the stop signals before listening, so a signal sent as soon as the
        // "listening" line appears is never fatal. (ProcessSignals installs its handlers
        // only when waited on, which would leave that window open.)
        let stop = StopSignal()
        let watcher = SignalWatcher([SIGTERM, SIGINT]) { signal in stop.fire(signal) }
        defer { watcher.cancel() }

        do {
            try await onOwnThread { () throws(HTTPServerError) in try server.start() }
        } catch {
            printError("quell api: cannot listen on \(o.host):\(o.port): \(error)")
            return 1
        }
        let mode = o.noAuth ? "no auth, tenant 'default'"
            : "\(o.tokens.count) token(s)\(o.adminToken == nil ? "" : " and an admin token")"
        printLine("quell api: listening on http://\(displayHost(o.host)):\(server.port) (redis \(configuration.redisURL), prefix \(configuration.prefix), \(mode))")

        let reaper = Reaper(store: store, interval: configuration.reaperInterval, log: { printError("quell api: \($0)") })
        reaper.start()
        let signal = await stop.wait()
        printLine("quell api: \(signal == SIGINT ? "SIGINT" : "SIGTERM"), shutting down (interrupt again to exit now)")
        await reaper.shutdown()
        await server.shutdown(grace: .seconds(5))
        printLine("quell api: stopped")
        return 0
    }

    private static func displayHost(_ host: String) -> String {
        host.contains(":") ? "[\(host)]" : host
    }

    /// Runs blocking work (name resolution, bind) on a thread of its own.
    private static func onOwnThread(_ body: @escaping @Sendable () throws(HTTPServerError) -> Void) async throws(HTTPServerError) {
        let result: Result<Void, HTTPServerError> = await withCheckedContinuation { continuation in
            OSThread.start {
                do throws(HTTPServerError) {
                    try body()
                    continuation.resume(returning: .success(()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        try result.get()
    }
}

/// The first SIGTERM or SIGINT, handed to whoever waits for it.
private final class StopSignal: Sendable {
    private struct State {
        var signal: Int32?
        var waiter: CheckedContinuation<Int32, Never>?
    }

    private let state = Mutex(State())

    /// The first signal wakes the waiter; a second SIGINT exits at once (130).
    func fire(_ signal: Int32) {
        let (waiter, again) = state.withLock { s -> (CheckedContinuation<Int32, Never>?, Bool) in
            guard s.signal == nil else { return (nil, true) }
            s.signal = signal
            let w = s.waiter
            s.waiter = nil
            return (w, false)
        }
        if again {
            if signal == SIGINT {
                printError("quell api: second interrupt: exiting now")
                exit(130)
            }
            return
        }
        waiter?.resume(returning: signal)
    }

    func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { s -> Int32? in
                if let signal = s.signal { return signal }
                s.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}

/// One line on stdout, written at once (stdout may be a pipe).
private func printLine(_ message: String) {
    writeAll(1, message + "\n")
}
