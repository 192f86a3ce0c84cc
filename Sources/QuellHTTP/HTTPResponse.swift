import FoundationEssentials

/// A request handler. It starts on the connection's own thread and, after its first
/// suspension, continues on Swift's cooperative pool: it must not block.
public typealias HTTPHandler = @Sendable (HTTPRequest) async -> HTTPResponse

/// The producer of a streaming body. Write with the writer; return (or throw) to end the
/// response. Writes throw `HTTPStreamError.clientDisconnected` once the client has gone,
/// and the task running this closure is cancelled then, so a stream loop ends.
public typealias HTTPStreamBody = @Sendable (HTTPBodyWriter) async throws -> Void

/// An HTTP response: status, header fields and a body that is either bytes or a stream.
///
/// The server adds `Content-Length` (for byte bodies), `Date` and `Connection` itself.
/// Streamed bodies are sent without Content-Length or chunked encoding and end by
/// closing the connection (`Connection: close`).
public struct HTTPResponse: Sendable {
    /// A response body.
    public enum Body: Sendable {
        /// A complete body, sent with Content-Length.
        case bytes([UInt8])
        /// A body written piece by piece until the closure returns; the connection closes after it.
        case stream(HTTPStreamBody)
    }

    /// The status.
    public var status: HTTPStatus
    /// Header fields set by the handler.
    public var headers: HTTPHeaders
    /// The body.
    public var body: Body

    /// A response with a byte body (empty by default).
    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = .bytes(body)
    }

    /// A response with any body.
    public init(status: HTTPStatus, headers: HTTPHeaders, body: Body) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The bytes of a byte body; nil for a stream.
    public var bodyBytes: [UInt8]? {
        if case .bytes(let b) = body { return b }
        return nil
    }

    /// `value` encoded as JSON (`Content-Type: application/json`). An encoding failure
    /// becomes a 500 `internal_error` response.
    public static func json(
        _ status: HTTPStatus = .ok, _ value: some Encodable, headers: HTTPHeaders = HTTPHeaders(),
        encoder: JSONEncoder = JSONEncoder()
    ) -> HTTPResponse {
        do {
            return json(status, raw: try encoder.encode(value), headers: headers)
        } catch {
            return .error(.internalServerError, code: "internal_error", message: "could not encode the response: \(error)")
        }
    }

    /// Already-encoded JSON bytes (`[UInt8]`, `Data`, `String.UTF8View`…) sent as is.
    public static func json(
        _ status: HTTPStatus = .ok, raw: some Sequence<UInt8>, headers: HTTPHeaders = HTTPHeaders()
    ) -> HTTPResponse {
        var h = headers
        if !h.contains("Content-Type") { h.add("Content-Type", "application/json") }
        return HTTPResponse(status: status, headers: h, body: Array(raw))
    }

    /// Plain UTF-8 text (`Content-Type: text/plain; charset=utf-8`).
    public static func text(_ status: HTTPStatus = .ok, _ text: String, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        var h = headers
        if !h.contains("Content-Type") { h.add("Content-Type", "text/plain; charset=utf-8") }
        return HTTPResponse(status: status, headers: h, body: Array(text.utf8))
    }

    /// The module's error shape: `{"error": {"code": "...", "message": "..."}}`.
    public static func error(
        _ status: HTTPStatus, code: String, message: String, headers: HTTPHeaders = HTTPHeaders()
    ) -> HTTPResponse {
        json(status, raw: errorBody(code: code, message: message), headers: headers)
    }

    /// The bytes of `{"error": {"code": ..., "message": ...}}`.
    public static func errorBody(code: String, message: String) -> [UInt8] {
        Array("{\"error\":{\"code\":\(jsonQuoted(code)),\"message\":\(jsonQuoted(message))}}".utf8)
    }

    /// A streamed body (no Content-Length; the connection closes when `body` returns).
    public static func stream(
        _ status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(), _ body: @escaping HTTPStreamBody
    ) -> HTTPResponse {
        HTTPResponse(status: status, headers: headers, body: .stream(body))
    }

    /// A Server-Sent Events stream: `Content-Type: text/event-stream`, `Cache-Control: no-cache`.
    /// Send events with `writer.send(_:)`.
    public static func eventStream(headers: HTTPHeaders = HTTPHeaders(), _ body: @escaping HTTPStreamBody) -> HTTPResponse {
        var h = headers
        if !h.contains("Content-Type") { h.add("Content-Type", "text/event-stream") }
        if !h.contains("Cache-Control") { h.add("Cache-Control", "no-cache") }
        return stream(.ok, headers: h, body)
    }
}

/// A JSON string literal for `s` (quotes included).
func jsonQuoted(_ s: String) -> String {
    var out = "\""
    out.reserveCapacity(s.utf8.count + 2)
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    out += "\""
    return out
}
