import Quell
import QuellHTTP

/// `GET /v1/events`: Server-Sent Events, one `job` event per change of a job the
/// caller may see. `id:` is the stream id, so `Last-Event-ID` (or `?last_event_id=`)
/// resumes right after it, without loss; without one the stream starts from now.
/// A comment line every `heartbeat` keeps idle connections (and proxies) open.
struct EventsEndpoint: Sendable {
    let store: JobStore
    let follower: EventFollower
    let params: ParamsCache
    let heartbeat: Duration
    /// Events read per `XRANGE` while catching up.
    var pageSize = 500

    func handle(_ request: HTTPRequest, caller: APICaller) async throws -> HTTPResponse {
        let query = try RequestDecoding.query(request, allowed: ["last_event_id"])
        let start: StreamID
        if let text = request.header("Last-Event-ID") ?? query["last_event_id"], !text.isEmpty {
            guard let id = StreamID(text) else {
                throw APIFailure.invalid("Last-Event-ID must be an event id like 1732412345678-0, got '\(text.prefix(60))'")
            }
            start = id
        } else {
            start = try await store.lastEventID().flatMap { StreamID($0) } ?? .zero
        }
        let tenant = caller.scope
        return .eventStream(headers: ["X-Accel-Buffering": "no"]) { writer in
            try await stream(to: writer, tenant: tenant, from: start)
        }
    }

    private func stream(to writer: HTTPBodyWriter, tenant: String?, from start: StreamID) async throws {
        let subscription = follower.subscribe(tenant: tenant, from: start)
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: heartbeat)
                subscription.offer(.heartbeat)
            }
        }
        defer {
            ticker.cancel()
            follower.unsubscribe(subscription)
        }
        var position = start
        try await writer.sendComment("quell events from \(start)")
        if subscription.takeNeedsCatchUp() {
            try await catchUp(writer, tenant: tenant, position: &position)
        }
        for await item in subscription.stream {
            if subscription.takeNeedsCatchUp() {
                try await catchUp(writer, tenant: tenant, position: &position)
            }
            switch item {
            case .events(let events):
                try await deliver(events, to: writer, position: &position)
            case .heartbeat:
                try await writer.sendComment("heartbeat")
            }
        }
    }

    /// Reads and sends everything after `position` straight from the stream. While Redis
    /// is down it waits (sending heartbeats) and tries again; the client stays connected.
    private func catchUp(_ writer: HTTPBodyWriter, tenant: String?, position: inout StreamID) async throws {
        var failures = 0
        while true {
            try Task.checkCancellation()
            let page: [JobEvent]
            do {
                page = try await store.events(after: position.description, limit: pageSize)
                failures = 0
            } catch {
                failures += 1
                if failures % 10 == 1 { try await writer.sendComment("waiting for Redis") }
                try await Task.sleep(for: .milliseconds(200))
                continue
            }
            var events = page.map(StreamEvent.init)
            if let tenant { events.removeAll { $0.job.tenant != tenant } }
            if !events.isEmpty {
                let jobs = await params.fill(events.map(\.job))
                for i in events.indices { events[i].job = jobs[i] }
            }
            try await deliver(events, to: writer, position: &position)
            // Advance past the whole page, including other tenants' events.
            if let last = page.last.flatMap({ StreamID($0.id) }), last > position { position = last }
            if page.count < pageSize { return }
        }
    }

    private func deliver(_ events: [StreamEvent], to writer: HTTPBodyWriter, position: inout StreamID) async throws {
        // One socket write per batch, not per event.
        var bytes: [UInt8] = []
        var last = position
        for event in events {
            guard let id = StreamID(event.id), id > last else { continue }
            bytes += ServerSentEvent(id: event.id, event: "job", data: event.job.json).encoded
            last = id
        }
        if bytes.isEmpty { return }
        try await writer.write(bytes)
        position = last
    }
}
