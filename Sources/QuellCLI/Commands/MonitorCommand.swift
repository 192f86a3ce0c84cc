import FoundationEssentials
import Glibc
import Quell
import QuellTerminal

/// `quell monitor [--once] [--json]`: the live dashboard when standard output
/// is a terminal; otherwise (or with `--once`) one plain snapshot, or with
/// `--json` one snapshot as JSON. Colours are off with `NO_COLOR`, `TERM=dumb`
/// or when not a terminal.
enum MonitorCommand {
    static func run(_ o: MonitorOptions, environment: [String: String]) async -> Int32 {
        await runStoreCommand("quell monitor", o.redis) { store in
            let settings = SnapshotSource.Settings(staleAfter: o.staleAfterSeconds)
            let isTerminal = Terminal.isTerminal(STDOUT_FILENO)
            if o.json {
                printOutput(try MonitorRenderer.json(try await SnapshotSource.once(store: store, settings: settings)))
            } else if o.once || !isTerminal {
                let snapshot = try await SnapshotSource.once(store: store, settings: settings)
                let width = isTerminal ? (Terminal.size()?.columns ?? 120) : 120
                printOutput(MonitorRenderer.plain(snapshot, width: width))
            } else {
                let color = Style.colorEnabled(environment: environment, isTerminal: true)
                try await LiveMonitor.run(store: store, settings: settings, color: color)
            }
        }
    }
}
