import Quell
import QuellHTTP

/// `GET /v1/events`: Server-Sent Events, one `job` event per change of a job the
/// caller may see. `id:` is the stream id, so `Last-Event-ID` (or `?last_event_id=`)
/// resumes right after it, without loss; without one the stream starts from now. An id
/// past the stream's end (a client's mistake, or honest after Redis was restored or
/// failed over) resumes that client from the stream's end: from now.
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
        var requested: StreamID?
        if let text = request.header("Last-Event-ID") ?? query["last_event_id"], !text.isEmpty {
            guard let id = StreamID(text) else {
                throw APIFailure.invalid("Last-Event-ID must be an event id like 1732412345678-0, got '\(text.prefix(60))'")
            }
            requested = id
        }
        let end: StreamID?
        do {
            end = try await store.lastEventID().flatMap { StreamID($0) } ?? .zero
        } catch {
            // Redis down: a client that resumes may wait for it (its first catch-up
            // checks the id against the stream's end); one that starts from now cannot.
            guard requested != nil else { throw error }
            end = nil
        }
        let start: StreamID
        var note = ""
        if let requested, let end, requested > end {
            start = end
            note = " (Last-Event-ID \(requested) is past the end of the stream)"
        } else {
            start = requested ?? end ?? .zero
        }
        let first = "quell events from \(start)\(note)"
        let tenant = caller.scope
        return .eventStream(headers: ["X-Accel-Buffering": "no"]) { writer in
            try await stream(to: writer, tenant: tenant, from: start, greeting: first)
        }
    }

    private func stream(to writer: HTTPBodyWriter, tenant: String?, from start: StreamID, greeting: String) async throws {
        let subscription = follower.subscribe(tenant: tenant)
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
        try await writer.sendComment(greeting)
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
            case .resync:
                break  // the catch-up above was for it
            }
        }
    }

    /// Reads and sends everything after `position` straight from the stream. While Redis
    /// is down it waits (sending heartbeats) and tries again; the client stays connected.
    ///
    /// First it checks `position` against the stream's end: past it (Redis restored or
    /// failed over since), reading after it would wait for the stream's ids to pass it,
    /// so the client goes on from the end instead, and is told so in a comment.
    private func catchUp(_ writer: HTTPBodyWriter, tenant: String?, position: inout StreamID) async throws {
        var failures = 0
        var checkedEnd = false
        var movedFrom: StreamID?
        while true {
            try Task.checkCancellation()
            let page: [JobEvent]
            do {
                if !checkedEnd {
                    let end = try await store.lastEventID().flatMap { StreamID($0) } ?? .zero
                    if position > end {
                        movedFrom = position
                        position = end
                    }
                    checkedEnd = true
                }
                page = try await store.events(after: position.description, limit: pageSize)
                failures = 0
            } catch {
                failures += 1
                if failures % 10 == 1 { try await writer.sendComment("waiting for Redis") }
                try await Task.sleep(for: .milliseconds(200))
                continue
            }
            if let from = movedFrom {
                try await writer.sendComment("\(from) is past the end of the stream (\(position)): resuming from there")
                movedFrom = nil
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
