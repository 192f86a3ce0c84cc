import ContactsTasks
import FoundationEssentials
import Quell

/// What the route answers with. In Vapor or Hummingbird these would be
/// `Content` / `ResponseCodable` types: Codables like these.
struct SyncStatus: Codable, Equatable {
    var id: String
    var status: JobStatus
    var attempt: Int
    var progress: JobProgress?

    init(_ job: Job) {
        id = job.id
        status = job.status
        attempt = job.attempt
        progress = job.progress
    }
}

struct ErrorBody: Codable {
    var error: String
    /// The sync that holds the account, for a 409.
    var job: SyncStatus?
}

/// An HTTP answer: status code and JSON body.
struct RouteResponse {
    var status: Int
    var body: Data

    init(_ status: Int, _ body: some Encodable) {
        self.status = status
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        self.body = (try? encoder.encode(body)) ?? Data()
    }
}

/// `POST /contacts/sync`, shaped like a Vapor or Hummingbird route handler
/// (`params` decoded from the request body, `tenant` from authentication):
/// 202 with the queued job, or 409 with the sync that already runs for this
/// account — its id, status and progress ("already running, 45 % done").
func postContactsSync(_ params: ContactsSync, tenant: String, store: JobStore) async -> RouteResponse {
    do {
        let job = try await store.enqueue(params, key: params.key, tenant: tenant)
        return RouteResponse(202, SyncStatus(job))
    } catch QuellError.conflict(let running) {
        return RouteResponse(409, ErrorBody(error: "sync_running", job: SyncStatus(running)))
    } catch QuellError.unavailable {
        return RouteResponse(503, ErrorBody(error: "unavailable"))
    } catch {
        return RouteResponse(400, ErrorBody(error: "\(error)"))
    }
}
