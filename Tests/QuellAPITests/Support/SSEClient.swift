import Foundation
import Glibc

/// A client of `GET /v1/events` on a raw socket; each call blocks on a thread of its own.
final class SSEClient: Sendable {
    let client: TestClient
    let head: TestResponse

    /// Connects and waits until the stream is open (its first comment has arrived),
    /// so the server has registered it.
    static func connect(port: Int, token: String? = "tok-acme", lastEventID: String? = nil,
                        target: String = "/v1/events") async throws -> SSEClient {
        try await onThread {
            let c = try TestClient(port: port, receiveTimeout: 5)
            var headers: [String] = []
            if let token { headers.append("Authorization: Bearer \(token)") }
            if let lastEventID { headers.append("Last-Event-ID: \(lastEventID)") }
            c.send(requestText("GET", target, headers: headers))
            let head = try c.readResponse(body: false)
            guard head.status == 200 else { throw TestFailure("events answered \(head.status)") }
            _ = try c.readComment(containing: "quell events from")
            return SSEClient(client: c, head: head)
        }
    }

    private init(client: TestClient, head: TestResponse) {
        self.client = client
        self.head = head
    }

    /// The next `count` job events (throws after 5 s without one).
    func events(_ count: Int) async throws -> [SSEEvent] {
        let c = client
        return try await onThread { try c.readEvents(count) }
    }

    /// Closes the connection (both directions) now.
    func disconnect() {
        Glibc.shutdown(client.fd, Int32(SHUT_RDWR))
    }

    func comment(containing text: String) async throws -> String {
        let c = client
        return try await onThread { try c.readComment(containing: text) }
    }
}
