// HTTP message types shared by the parser, the router and the server.
// Swift standard library only: this file is compiled on its own into the fuzzer
// together with HTTPRequestParser.swift (see scripts/fuzz-http).

/// An HTTP request method. Methods are case-sensitive ("GET" is not "get").
public struct HTTPMethod: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The method token as it appears on the request line.
    public let rawValue: String

    /// Wraps a method token.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Wraps a method token given as a literal, e.g. `"PURGE"`.
    public init(stringLiteral value: String) { self.rawValue = value }

    /// `GET`
    public static let get = HTTPMethod(rawValue: "GET")
    /// `HEAD`
    public static let head = HTTPMethod(rawValue: "HEAD")
    /// `POST`
    public static let post = HTTPMethod(rawValue: "POST")
    /// `PUT`
    public static let put = HTTPMethod(rawValue: "PUT")
    /// `PATCH`
    public static let patch = HTTPMethod(rawValue: "PATCH")
    /// `DELETE`
    public static let delete = HTTPMethod(rawValue: "DELETE")
    /// `OPTIONS`
    public static let options = HTTPMethod(rawValue: "OPTIONS")

    /// The method token.
    public var description: String { rawValue }
}

/// An HTTP protocol version such as 1.1.
public struct HTTPVersion: Hashable, Sendable, CustomStringConvertible {
    /// Major version digit.
    public var major: Int
    /// Minor version digit.
    public var minor: Int

    /// A version from its two digits.
    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// HTTP/1.0
    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    /// HTTP/1.1
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)

    /// `HTTP/major.minor`
    public var description: String { "HTTP/\(major).\(minor)" }
}

/// An HTTP status code with its reason phrase. Two statuses are equal when their codes are.
public struct HTTPStatus: Hashable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    /// The three-digit status code.
    public var code: Int
    /// The reason phrase sent on the status line.
    public var reasonPhrase: String

    /// A status from its code; the reason phrase defaults to the standard one.
    public init(_ code: Int, reasonPhrase: String? = nil) {
        self.code = code
        self.reasonPhrase = reasonPhrase ?? HTTPStatus.standardReason(code)
    }

    /// A status from an integer literal, e.g. `let s: HTTPStatus = 404`.
    public init(integerLiteral value: Int) { self.init(value) }

    /// Equal when the codes are (reason phrases are not compared).
    public static func == (a: HTTPStatus, b: HTTPStatus) -> Bool { a.code == b.code }
    /// Hashes the code only.
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    /// `code reason`, e.g. `404 Not Found`.
    public var description: String { "\(code) \(reasonPhrase)" }

    /// 100
    public static let `continue` = HTTPStatus(100)
    /// 200
    public static let ok = HTTPStatus(200)
    /// 201
    public static let created = HTTPStatus(201)
    /// 202
    public static let accepted = HTTPStatus(202)
    /// 204
    public static let noContent = HTTPStatus(204)
    /// 304
    public static let notModified = HTTPStatus(304)
    /// 400
    public static let badRequest = HTTPStatus(400)
    /// 401
    public static let unauthorized = HTTPStatus(401)
    /// 403
    public static let forbidden = HTTPStatus(403)
    /// 404
    public static let notFound = HTTPStatus(404)
    /// 405
    public static let methodNotAllowed = HTTPStatus(405)
    /// 408
    public static let requestTimeout = HTTPStatus(408)
    /// 409
    public static let conflict = HTTPStatus(409)
    /// 411
    public static let lengthRequired = HTTPStatus(411)
    /// 413
    public static let contentTooLarge = HTTPStatus(413)
    /// 414
    public static let uriTooLong = HTTPStatus(414)
    /// 415
    public static let unsupportedMediaType = HTTPStatus(415)
    /// 422
    public static let unprocessableContent = HTTPStatus(422)
    /// 429
    public static let tooManyRequests = HTTPStatus(429)
    /// 431
    public static let requestHeaderFieldsTooLarge = HTTPStatus(431)
    /// 500
    public static let internalServerError = HTTPStatus(500)
    /// 501
    public static let notImplemented = HTTPStatus(501)
    /// 503
    public static let serviceUnavailable = HTTPStatus(503)
    /// 505
    public static let httpVersionNotSupported = HTTPStatus(505)

    /// The standard reason phrase for a code ("Unknown" for codes this module does not name).
    public static func standardReason(_ code: Int) -> String {
        switch code {
        case 100: "Continue"
        case 101: "Switching Protocols"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 410: "Gone"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: "Unknown"
        }
    }
}

/// An ordered list of header fields with case-insensitive name lookup.
public struct HTTPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    /// The fields in the order they were received or added.
    public private(set) var fields: [(name: String, value: String)]

    /// No fields.
    public init() { fields = [] }

    /// The given fields, in order.
    public init(_ fields: [(name: String, value: String)]) { self.fields = fields }

    /// Fields from a literal such as `["Content-Type": "text/plain"]`.
    public init(dictionaryLiteral elements: (String, String)...) {
        fields = elements.map { (name: $0.0, value: $0.1) }
    }

    /// Number of fields (a repeated name counts once per occurrence).
    public var count: Int { fields.count }

    /// Iterates the fields in order.
    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }

    /// The first value for `name` (case-insensitive). Setting replaces every field of that
    /// name with one field (or removes them all when set to nil).
    public subscript(_ name: String) -> String? {
        get { fields.first { asciiCaseInsensitiveEquals($0.name, name) }?.value }
        set {
            if let newValue { replaceOrAdd(name, newValue) } else { remove(name) }
        }
    }

    /// Every value for `name` (case-insensitive), in order.
    public func values(_ name: String) -> [String] {
        fields.filter { asciiCaseInsensitiveEquals($0.name, name) }.map(\.value)
    }

    /// Whether a field named `name` (case-insensitive) is present.
    public func contains(_ name: String) -> Bool {
        fields.contains { asciiCaseInsensitiveEquals($0.name, name) }
    }

    /// Appends a field, keeping any existing fields of the same name.
    public mutating func add(_ name: String, _ value: String) {
        fields.append((name: name, value: value))
    }

    /// Replaces every field named `name` with one field, or appends it.
    public mutating func replaceOrAdd(_ name: String, _ value: String) {
        if let i = fields.firstIndex(where: { asciiCaseInsensitiveEquals($0.name, name) }) {
            fields[i].value = value
            var j = fields.count - 1
            while j > i {
                if asciiCaseInsensitiveEquals(fields[j].name, name) { fields.remove(at: j) }
                j -= 1
            }
        } else {
            add(name, value)
        }
    }

    /// Removes every field named `name` (case-insensitive).
    public mutating func remove(_ name: String) {
        fields.removeAll { asciiCaseInsensitiveEquals($0.name, name) }
    }

    /// Whether any field named `name` holds `token` in its comma-separated list (both case-insensitive).
    public func containsToken(_ token: String, in name: String) -> Bool {
        for field in fields where asciiCaseInsensitiveEquals(field.name, name) {
            for part in field.value.split(separator: ",") {
                if asciiCaseInsensitiveEquals(trimOWS(part), token) { return true }
            }
        }
        return false
    }

    /// Same fields in the same order (names compared exactly).
    public static func == (a: HTTPHeaders, b: HTTPHeaders) -> Bool {
        a.fields.count == b.fields.count
            && zip(a.fields, b.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    /// `Name: value` lines.
    public var description: String { fields.map { "\($0.name): \($0.value)" }.joined(separator: "\n") }
}

/// A parsed HTTP request as handed to handlers.
public struct HTTPRequest: Sendable, CustomStringConvertible {
    /// The request method.
    public var method: HTTPMethod
    /// The request-target exactly as sent (e.g. `/v1/jobs?status=queued`).
    public var target: String
    /// The path, still percent-encoded (the router splits this one, so `%2F` stays inside a segment).
    public var rawPath: String
    /// The percent-decoded path, e.g. `/v1/jobs/a b`.
    public var path: String
    /// The raw query string after `?` (without it), or nil when the target had none.
    public var rawQuery: String?
    /// Every query pair, percent-decoded (`+` read as space), in order.
    public var queryItems: [(name: String, value: String)]
    /// The first value of each query parameter.
    public var query: [String: String]
    /// The protocol version of the request.
    public var version: HTTPVersion
    /// The header fields.
    public var headers: HTTPHeaders
    /// The body bytes (empty when there was none).
    public var body: [UInt8]
    /// Values captured by the router's `:name` segments, percent-decoded.
    public var pathParameters: [String: String]
    /// The client's address as `host:port`, when the server knows it.
    public var remoteAddress: String?
    /// Whether the client wants the connection kept open after this request
    /// (HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`).
    public var keepAlive: Bool

    /// A request built by hand (for tests or internal dispatch). `target` is split into
    /// path and query like the parser does; an undecodable target is kept raw.
    public init(
        method: HTTPMethod = .get,
        target: String,
        version: HTTPVersion = .http1_1,
        headers: HTTPHeaders = HTTPHeaders(),
        body: [UInt8] = [],
        pathParameters: [String: String] = [:]
    ) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
        self.pathParameters = pathParameters
        self.remoteAddress = nil
        if let parts = RequestTarget.parse(Array(target.utf8)) {
            rawPath = parts.rawPath
            path = parts.path
            rawQuery = parts.rawQuery
            queryItems = parts.queryItems
        } else {
            rawPath = target
            path = target
            rawQuery = nil
            queryItems = []
        }
        query = RequestTarget.firstValues(queryItems)
        keepAlive = RequestTarget.wantsKeepAlive(version: version, headers: headers)
    }

    init(
        method: HTTPMethod, target: String, parts: RequestTarget, version: HTTPVersion,
        headers: HTTPHeaders, body: [UInt8], keepAlive: Bool
    ) {
        self.method = method
        self.target = target
        self.rawPath = parts.rawPath
        self.path = parts.path
        self.rawQuery = parts.rawQuery
        self.queryItems = parts.queryItems
        self.query = RequestTarget.firstValues(parts.queryItems)
        self.version = version
        self.headers = headers
        self.body = body
        self.pathParameters = [:]
        self.remoteAddress = nil
        self.keepAlive = keepAlive
    }

    /// The first value of header `name`, case-insensitive.
    public func header(_ name: String) -> String? { headers[name] }

    /// Every value of query parameter `name`, in order.
    public func queryValues(_ name: String) -> [String] {
        queryItems.filter { $0.name == name }.map(\.value)
    }

    /// `METHOD target`
    public var description: String { "\(method) \(target)" }
}

/// The request-target split and decoded.
struct RequestTarget: Sendable {
    var rawPath: String
    var path: String
    var rawQuery: String?
    var queryItems: [(name: String, value: String)]

    /// Splits origin-form (`/p?q`), absolute-form (`http://host/p?q`) or `*`. Nil when the
    /// target is not one of those or holds a bad percent-escape or non-UTF-8 after decoding.
    static func parse(_ bytes: [UInt8]) -> RequestTarget? {
        guard let first = bytes.first else { return nil }
        var pathStart = 0
        if first == UInt8(ascii: "*") {
            guard bytes.count == 1 else { return nil }
            return RequestTarget(rawPath: "*", path: "*", rawQuery: nil, queryItems: [])
        } else if first != UInt8(ascii: "/") {
            // absolute-form: scheme "://" authority [path]
            guard let schemeEnd = absoluteFormAuthorityStart(bytes) else { return nil }
            var i = schemeEnd
            while i < bytes.count, bytes[i] != UInt8(ascii: "/"), bytes[i] != UInt8(ascii: "?") { i += 1 }
            guard i > schemeEnd else { return nil }  // empty authority
            pathStart = i
        }
        var queryStart: Int?
        for i in pathStart..<bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "#") { return nil }
            if b == UInt8(ascii: "?") && queryStart == nil { queryStart = i }
        }
        let pathEnd = queryStart ?? bytes.count
        let rawPathBytes = bytes[pathStart..<pathEnd]
        let rawPath = rawPathBytes.isEmpty ? "/" : String(decoding: rawPathBytes, as: UTF8.self)
        guard let path = rawPathBytes.isEmpty ? "/" : percentDecode(rawPathBytes, plusAsSpace: false) else {
            return nil
        }
        var rawQuery: String?
        var items: [(name: String, value: String)] = []
        if let q = queryStart {
            let queryBytes = bytes[(q + 1)...]
            rawQuery = String(decoding: queryBytes, as: UTF8.self)
            for pair in queryBytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
                let name: ArraySlice<UInt8>
                let value: ArraySlice<UInt8>
                if let eq = pair.firstIndex(of: UInt8(ascii: "=")) {
                    name = pair[pair.startIndex..<eq]
                    value = pair[(eq + 1)...]
                } else {
                    name = pair
                    value = []
                }
                guard let n = percentDecode(name, plusAsSpace: true),
                    let v = percentDecode(value, plusAsSpace: true)
                else { return nil }
                items.append((name: n, value: v))
            }
        }
        return RequestTarget(rawPath: rawPath, path: path, rawQuery: rawQuery, queryItems: items)
    }

    /// Index just after `scheme://` for an http or https absolute-form target.
    private static func absoluteFormAuthorityStart(_ bytes: [UInt8]) -> Int? {
        for scheme in ["http://", "https://"] {
            let s = Array(scheme.utf8)
            if bytes.count >= s.count, zip(bytes, s).allSatisfy({ lowerASCII($0) == $1 }) { return s.count }
        }
        return nil
    }

    static func firstValues(_ items: [(name: String, value: String)]) -> [String: String] {
        var query: [String: String] = [:]
        for item in items where query[item.name] == nil { query[item.name] = item.value }
        return query
    }

    static func wantsKeepAlive(version: HTTPVersion, headers: HTTPHeaders) -> Bool {
        if version == .http1_1 { return !headers.containsToken("close", in: "Connection") }
        return headers.containsToken("keep-alive", in: "Connection")
            && !headers.containsToken("close", in: "Connection")
    }
}

/// Decodes `%XX` escapes (and `+` as space when asked). Nil on a malformed escape or
/// when the result is not valid UTF-8.
func percentDecode(_ bytes: some Collection<UInt8>, plusAsSpace: Bool) -> String? {
    var needsWork = false
    for b in bytes where b == UInt8(ascii: "%") || (plusAsSpace && b == UInt8(ascii: "+")) {
        needsWork = true
        break
    }
    if !needsWork { return String(validating: bytes, as: UTF8.self) }
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var i = bytes.startIndex
    while i != bytes.endIndex {
        let b = bytes[i]
        if b == UInt8(ascii: "%") {
            let h = bytes.index(after: i)
            guard h != bytes.endIndex else { return nil }
            let l = bytes.index(after: h)
            guard l != bytes.endIndex, let hi = hexValue(bytes[h]), let lo = hexValue(bytes[l]) else { return nil }
            out.append(hi << 4 | lo)
            i = bytes.index(after: l)
        } else {
            out.append(plusAsSpace && b == UInt8(ascii: "+") ? UInt8(ascii: " ") : b)
            i = bytes.index(after: i)
        }
    }
    return String(validating: out, as: UTF8.self)
}

@inline(__always)
func hexValue(_ b: UInt8) -> UInt8? {
    switch b {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
    default: nil
    }
}

@inline(__always)
func lowerASCII(_ b: UInt8) -> UInt8 {
    b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b | 0x20 : b
}

/// ASCII case-insensitive comparison (header names and tokens are ASCII).
func asciiCaseInsensitiveEquals(_ a: some StringProtocol, _ b: some StringProtocol) -> Bool {
    let x = a.utf8
    let y = b.utf8
    guard x.count == y.count else { return false }
    return zip(x, y).allSatisfy { lowerASCII($0) == lowerASCII($1) }
}

/// Trims spaces and horizontal tabs from both ends.
func trimOWS(_ s: Substring) -> Substring {
    var s = s
    while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
    while let l = s.last, l == " " || l == "\t" { s.removeLast() }
    return s
}
