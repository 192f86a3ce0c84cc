import FoundationEssentials
import QuellSystem
import Glibc
import Quell
import QuellAPI
import QuellHTTP
import QuellTerminal
import Synchronization

/// `quell api`: the HTTP/JSON API, with the reaper and janitor running in-process.
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
            configuration = try o.storeConfiguration()
        } catch {
            printError("quell api: \(error.description)")
            return error.exitCode
        }
        let store = JobStore(configuration: configuration, clientName: "quell-api")
        defer { store.close() }
        var apiConfiguration = QuellAPIConfiguration(http: HTTPServerConfiguration(host: o.host, port: o.port), auth: auth)
        apiConfiguration.runReaper = true
        apiConfiguration.logger = QuellLogger { _, message, _ in printError("quell api: \(message)") }
        let server = QuellAPIServer(store: store, configuration: apiConfiguration)

        // Watch for the stop signals before listening, so a signal sent as soon as the
        // "listening" line appears is never fatal.
        let stop = TerminationSignals(command: "quell api")
        defer { stop.cancel() }

        do {
            try await onOwnThread { () throws(HTTPServerError) in try server.start() }
        } catch {
            printError("quell api: cannot listen on \(o.host):\(o.port): \(error)")
            return 1
        }
        let mode = o.noAuth ? "no auth, tenant 'default'"
            : "\(o.tokens.count) token(s)\(o.adminToken == nil ? "" : " and an admin token")"
        printLine("quell api: listening on http://\(displayHost(o.host)):\(server.port) (redis \(configuration.redisURL), prefix \(configuration.prefix), \(mode))")

        let signal = await stop.wait()
        printLine("quell api: \(signal == SIGINT ? "SIGINT" : "SIGTERM"), shutting down (interrupt again to exit now)")
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

/// One line on stdout, written at once (stdout may be a pipe).
private func printLine(_ message: String) {
    writeAll(1, message + "\n")
}
