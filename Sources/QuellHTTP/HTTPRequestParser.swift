// An incremental HTTP/1.x request parser over bytes. Swift standard library only
// (plus HTTPMessage.swift): pure, no I/O, so it can be fuzzed on its own.
//
// The answer it gives for a byte stream does not depend on how the stream is cut
// into appends: every check looks only at complete lines, or at a prefix bounded by
// the limits. The fuzzer checks exactly that.

/// Limits the parser enforces, each with its own error answer.
public struct HTTPParserLimits: Sendable, Equatable {
    /// Bytes allowed for the request line plus header fields plus the blank line
    /// (431, or 414 when the request line alone is longer).
    public var maxHeaderBytes: Int
    /// Header fields allowed (431).
    public var maxHeaderCount: Int
    /// Body bytes allowed, judged from Content-Length before any body byte is read (413).
    public var maxBodyBytes: Int

    /// Defaults: 16 KiB of head, 100 header fields, 1 MiB of body.
    public init(maxHeaderBytes: Int = 16 * 1024, maxHeaderCount: Int = 100, maxBodyBytes: Int = 1 << 20) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
    }
}

/// Why a request was refused: the status to answer, a stable error code and a message.
/// The connection must be closed after answering.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Status to answer with.
    public var status: HTTPStatus
    /// Machine-readable code such as `bad_request` or `headers_too_large`.
    public var code: String
    /// Human-readable explanation.
    public var message: String

    /// An error from its parts.
    public init(status: HTTPStatus, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    static func badRequest(_ message: String) -> HTTPParseError {
        HTTPParseError(status: .badRequest, code: "bad_request", message: message)
    }

    /// `status code: message`
    public var description: String { "\(status.code) \(code): \(message)" }
}

/// What the parser can say after bytes were appended.
public enum HTTPParseResult: Sendable {
    /// A complete request; call `next()` again, more may be buffered (pipelining).
    case request(HTTPRequest)
    /// The head of a request with `Expect: 100-continue` is complete and its body has not
    /// arrived yet: answer `100 Continue`, then keep reading. Given once per request.
    case expectContinue
    /// Not enough bytes yet.
    case needMoreData
    /// The stream is unusable: answer the error and close. Repeated on every later call.
    case error(HTTPParseError)
}

/// An incremental HTTP/1.0 and HTTP/1.1 request parser. Append bytes as they arrive,
/// then call `next()` until it answers `.needMoreData`.
///
/// Bodies need Content-Length; any Transfer-Encoding (chunked included) is refused with 411.
public struct HTTPRequestParser: Sendable {
    /// The limits in force.
    public let limits: HTTPParserLimits

    private var buffer: [UInt8] = []
    /// First byte not consumed yet.
    private var start = 0
    /// How far the head has been scanned for line ends (absolute index into `buffer`).
    private var scanPosition = 0
    /// Index of the request line's LF once found.
    private var requestLineEnd: Int?
    private var state: State = .head

    private enum State: Sendable {
        case head
        case body(PendingBody)
        case failed(HTTPParseError)
    }

    private struct PendingBody: Sendable {
        var request: HTTPRequest
        var length: Int
        var expectContinue: Bool
    }

    /// A parser with the given limits.
    public init(limits: HTTPParserLimits = HTTPParserLimits()) {
        self.limits = limits
    }

    /// Number of received bytes not yet returned as part of a request.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Whether part of a request has been received (bytes buffered or a head waiting for its body).
    public var hasPartialRequest: Bool {
        if case .body = state { return true }
        return start < buffer.count
    }

    /// Whether the head of the current request is complete and its body is being received.
    public var isReadingBody: Bool {
        if case .body = state { return true }
        return false
    }

    /// Appends received bytes.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Appends received bytes.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Drops consumed bytes from the front of the buffer once it pays.
    private mutating func compact() {
        guard start > 0 else { return }
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
        } else if start >= 4096 && start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
        } else {
            return
        }
        scanPosition = max(0, scanPosition - start)
        if let r = requestLineEnd { requestLineEnd = r - start }
        start = 0
    }

    /// Parses as far as the buffered bytes allow.
    public mutating func next() -> HTTPParseResult {
        switch state {
        case .failed(let error):
            return .error(error)
        case .head:
            return parseHead()
        case .body(var pending):
            if buffer.count - start >= pending.length {
                var request = pending.request
                request.body = Array(buffer[start..<(start + pending.length)])
                start += pending.length
                resetForNextRequest()
                return .request(request)
            }
            if pending.expectContinue {
                pending.expectContinue = false
                state = .body(pending)
                return .expectContinue
            }
            return .needMoreData
        }
    }

    private mutating func fail(_ error: HTTPParseError) -> HTTPParseResult {
        state = .failed(error)
        return .error(error)
    }

    private mutating func resetForNextRequest() {
        state = .head
        scanPosition = start
        requestLineEnd = nil
    }

    private mutating func parseHead() -> HTTPParseResult {
        // RFC 9112 §2.2: ignore empty lines received before the request line.
        if requestLineEnd == nil {
            while buffer.count - start >= 2, buffer[start] == CR, buffer[start + 1] == LF { start += 2 }
            scanPosition = max(scanPosition, start)
            if start == buffer.count { return .needMoreData }
            if buffer[start] == CR && buffer.count - start == 1 { return .needMoreData }
            // Refuse binary garbage (a TLS hello, say) at once instead of waiting for a line end.
            if !isTokenChar(buffer[start]) {
                return fail(.badRequest("the request line must start with a method"))
            }
        }

        let maxHead = max(limits.maxHeaderBytes, 16)
        let available = buffer.count - start
        let scanLimit = start + min(available, maxHead)  // never look past the head limit
        var i = scanPosition
        while i < scanLimit {
            if buffer[i] == LF {
                if requestLineEnd == nil {
                    requestLineEnd = i
                    if let error = validateRequestLine(end: i) { scanPosition = i + 1; return fail(error) }
                } else if i >= start + 2, buffer[i - 1] == CR, buffer[i - 2] == LF {
                    scanPosition = i + 1
                    return finishHead(end: i + 1)
                }
            }
            i += 1
        }
        scanPosition = i
        if available > maxHead {
            if requestLineEnd == nil {
                return fail(HTTPParseError(
                    status: .uriTooLong, code: "uri_too_long",
                    message: "the request line is longer than \(maxHead) bytes"))
            }
            return fail(HTTPParseError(
                status: .requestHeaderFieldsTooLarge, code: "headers_too_large",
                message: "the request head is larger than \(maxHead) bytes"))
        }
        return .needMoreData
    }

    /// Checks `METHOD SP target SP HTTP/x.y CRLF` ending with the LF at `end`.
    private func validateRequestLine(end: Int) -> HTTPParseError? {
        guard end > start, buffer[end - 1] == CR else {
            return .badRequest("the request line must end with CRLF")
        }
        guard let line = splitRequestLine(start..<(end - 1)) else {
            return .badRequest("malformed request line (expected: METHOD SP target SP HTTP/1.1)")
        }
        switch parseVersion(line.version) {
        case .none: return .badRequest("malformed HTTP version")
        case .some(let v) where v.major != 1 || v.minor > 1:
            return HTTPParseError(
                status: .httpVersionNotSupported, code: "http_version_not_supported",
                message: "only HTTP/1.0 and HTTP/1.1 are supported")
        default: return nil
        }
    }

    private typealias RequestLine = (method: Range<Int>, target: Range<Int>, version: Range<Int>)

    private func splitRequestLine(_ range: Range<Int>) -> RequestLine? {
        var i = range.lowerBound
        while i < range.upperBound, isTokenChar(buffer[i]) { i += 1 }
        guard i > range.lowerBound, i < range.upperBound, buffer[i] == SP else { return nil }
        let method = range.lowerBound..<i
        i += 1
        let targetStart = i
        while i < range.upperBound, buffer[i] > SP, buffer[i] < 0x7F { i += 1 }
        guard i > targetStart, i < range.upperBound, buffer[i] == SP else { return nil }
        let target = targetStart..<i
        return (method, target, (i + 1)..<range.upperBound)
    }

    private func parseVersion(_ r: Range<Int>) -> HTTPVersion? {
        guard r.count == 8 else { return nil }
        for k in 0..<5 where buffer[r.lowerBound + k] != httpSlash[k] { return nil }
        let major = buffer[r.lowerBound + 5]
        let dot = buffer[r.lowerBound + 6]
        let minor = buffer[r.lowerBound + 7]
        guard isDigit(major), dot == UInt8(ascii: "."), isDigit(minor) else { return nil }
        return HTTPVersion(major: Int(major - 48), minor: Int(minor - 48))
    }

    /// The head is `buffer[start..<end]` (ending with the blank line); the request line
    /// has already been validated.
    private mutating func finishHead(end: Int) -> HTTPParseResult {
        guard let lineEnd = requestLineEnd, let line = splitRequestLine(start..<(lineEnd - 1)),
            let version = parseVersion(line.version)
        else { return fail(.badRequest("malformed request line")) }
        let method = HTTPMethod(rawValue: String(decoding: buffer[line.method], as: UTF8.self))
        let targetBytes = Array(buffer[line.target])
        guard let parts = RequestTarget.parse(targetBytes) else {
            return fail(.badRequest("malformed request target (expected /path?query, with valid %-escapes)"))
        }
        if parts.rawPath == "*" && method != .options {
            return fail(.badRequest("'*' is only a valid target for OPTIONS"))
        }

        // Header fields: lines between the request line and the blank line.
        var headers = HTTPHeaders()
        var lineStart = lineEnd + 1
        let fieldsEnd = end - 2  // the blank line's CRLF
        while lineStart < fieldsEnd {
            var lf = lineStart
            while buffer[lf] != LF { lf += 1 }  // a LF exists: the blank line's
            guard lf > lineStart, buffer[lf - 1] == CR else {
                return fail(.badRequest("header lines must end with CRLF"))
            }
            if headers.count == limits.maxHeaderCount {
                return fail(HTTPParseError(
                    status: .requestHeaderFieldsTooLarge, code: "headers_too_large",
                    message: "more than \(limits.maxHeaderCount) header fields"))
            }
            guard let field = parseField(lineStart..<(lf - 1)) else {
                return fail(.badRequest("malformed header field"))
            }
            headers.add(field.name, field.value)
            lineStart = lf + 1
        }

        // Semantics that decide framing, routing and who is asking.
        if let name = repeatedSingletonField(headers) {
            return fail(.badRequest("the \(name) header field may appear only once"))
        }
        if version == .http1_1 && !headers.contains("Host") {
            return fail(.badRequest("HTTP/1.1 requests need exactly one Host header"))
        }
        if headers.contains("Transfer-Encoding") {
            return fail(HTTPParseError(
                status: .lengthRequired, code: "length_required",
                message: "chunked or other transfer-coded request bodies are not supported; send Content-Length"))
        }
        var length = 0
        let lengths = headers.values("Content-Length")
        if !lengths.isEmpty {
            var seen: Int?
            for value in lengths {
                for part in value.split(separator: ",", omittingEmptySubsequences: false) {
                    switch parseContentLength(trimOWS(part)) {
                    case .invalid:
                        return fail(.badRequest("invalid Content-Length"))
                    case .tooLarge:
                        return fail(bodyTooLarge())
                    case .value(let n):
                        if let s = seen, s != n { return fail(.badRequest("conflicting Content-Length values")) }
                        seen = n
                    }
                }
            }
            length = seen ?? 0
        }
        if length > limits.maxBodyBytes { return fail(bodyTooLarge()) }

        let keepAlive = RequestTarget.wantsKeepAlive(version: version, headers: headers)
        let request = HTTPRequest(
            method: method, target: String(decoding: targetBytes, as: UTF8.self), parts: parts,
            version: version, headers: headers, body: [], keepAlive: keepAlive)
        start = end
        if length == 0 {
            resetForNextRequest()
            return .request(request)
        }
        let expect = headers["Expect"].map { asciiCaseInsensitiveEquals(trimOWS(Substring($0)), "100-continue") } ?? false
        state = .body(PendingBody(request: request, length: length, expectContinue: expect && version == .http1_1))
        return next()
    }

    /// Fields a request may carry at most once. RFC 9110 §5.3: only a field defined as a
    /// list may be repeated (its lines then combine into one comma-separated value); for
    /// these, two lines are two answers to one question, and taking the first (or last)
    /// one is a guess that a proxy in front may make differently. Content-Length has its
    /// own rule (one value, possibly repeated: RFC 9110 §8.6) below.
    static let singletonFields = ["Host", "Authorization", "Proxy-Authorization", "Content-Type"]

    /// The name (as listed above) of the first singleton field that appears twice, if any.
    private func repeatedSingletonField(_ headers: HTTPHeaders) -> String? {
        var seen: UInt32 = 0
        for field in headers {
            for (i, name) in Self.singletonFields.enumerated() where asciiCaseInsensitiveEquals(field.name, name) {
                let bit: UInt32 = 1 << i
                if seen & bit != 0 { return name }
                seen |= bit
            }
        }
        return nil
    }

    private func bodyTooLarge() -> HTTPParseError {
        HTTPParseError(
            status: .contentTooLarge, code: "body_too_large",
            message: "the request body is larger than \(limits.maxBodyBytes) bytes")
    }

    private enum ContentLength { case value(Int), invalid, tooLarge }

    private func parseContentLength(_ s: Substring) -> ContentLength {
        guard !s.isEmpty else { return .invalid }
        var n = 0
        for c in s.utf8 {
            guard isDigit(c) else { return .invalid }
            let (m, o1) = n.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(c - 48))
            if o1 || o2 { return .tooLarge }
            n = a
        }
        return .value(n)
    }

    /// `name ":" OWS value OWS` with a token name and no control characters in the value.
    private func parseField(_ r: Range<Int>) -> (name: String, value: String)? {
        var i = r.lowerBound
        while i < r.upperBound, isTokenChar(buffer[i]) { i += 1 }
        guard i > r.lowerBound, i < r.upperBound, buffer[i] == UInt8(ascii: ":") else { return nil }
        let name = String(decoding: buffer[r.lowerBound..<i], as: UTF8.self)
        var v = i + 1
        var e = r.upperBound
        while v < e, buffer[v] == SP || buffer[v] == HT { v += 1 }
        while e > v, buffer[e - 1] == SP || buffer[e - 1] == HT { e -= 1 }
        for k in v..<e {
            let b = buffer[k]
            if (b < SP && b != HT) || b == 0x7F { return nil }
        }
        return (name, String(decoding: buffer[v..<e], as: UTF8.self))
    }
}

private let httpSlash: [UInt8] = Array("HTTP/".utf8)
private let CR: UInt8 = 13
private let LF: UInt8 = 10
private let SP: UInt8 = 32
private let HT: UInt8 = 9

@inline(__always)
private func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }

/// RFC 9110 tchar: the characters of method names and header field names.
@inline(__always)
private func isTokenChar(_ b: UInt8) -> Bool {
    switch b {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"):
        return true
    case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
        UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
        UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
        return true
    default:
        return false
    }
}
