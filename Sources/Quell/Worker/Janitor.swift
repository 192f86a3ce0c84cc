/// Deletes finished jobs older than the retention (`QUELL_RETENTION_SECONDS`,
/// 7 days by default) every `interval` seconds, so Redis does not grow
/// without bound. Runs wherever the reaper runs; the script is atomic and
/// bounded per sweep, so many janitors at once are safe.
package final class Janitor: Sendable {
    private let loop: PeriodicLoop

    package init(store: JobStore, interval: Double = 60, log: @escaping @Sendable (String) -> Void = { _ in }) {
        loop = PeriodicLoop(name: "janitor", interval: interval) {
            do {
                let n = try await store.expireFinished()
                if n > 0 { log("janitor: deleted \(n) finished job(s) past retention") }
            } catch {
                log("janitor sweep failed: \(error)")
            }
        }
    }

    package func start() { loop.start() }
    package func shutdown() async { await loop.shutdown() }
}
