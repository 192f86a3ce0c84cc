import FoundationEssentials
import Quell

/// `quell enqueue TYPE [--params JSON] [--key KEY] [--tenant T] [--queue Q] [--max-attempts N]`.
/// Prints the new job (its fields, or `Job.json` with `--json`). A job
/// already holding the key is a conflict (exit 1, naming that job); a
/// request the store rejects is a usage error (exit 2).
enum EnqueueCommand {
    static func run(_ o: EnqueueOptions) async -> Int32 {
        await runStoreCommand("quell enqueue", o.redis) { store in
            let params: JSONValue
            do {
                params = try JSONValue.parse(o.params)
            } catch {
                throw UsageError("invalid value for --params: expected a JSON object", command: [])
            }
            let request = EnqueueRequest(type: o.type, params: params, tenant: o.tenant, key: o.key, queue: o.queue,
                                         maxAttempts: o.maxAttempts ?? 3)
            let job = try await store.enqueue(request)
            printOutput(o.json ? job.json : JobText.details(job, keys: store.keys))
        }
    }
}
