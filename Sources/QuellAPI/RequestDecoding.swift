import Quell
import QuellHTTP

/// Reading request bodies and query strings strictly: unknown fields and
/// parameters are rejected (400), never ignored (DESIGN.md "HTTP API").
enum RequestDecoding {
    /// The JSON object a POST carries, or nil for an empty body. A body must be
    /// `application/json` (415 otherwise) and a JSON object (400 otherwise).
    static func jsonObject(_ request: HTTPRequest) throws(APIFailure) -> [String: JSONValue]? {
        if request.body.isEmpty { return nil }
        guard let type = request.header("Content-Type"), isJSONMediaType(type) else {
            let got = request.header("Content-Type").map { "'\($0)'" } ?? "none"
            throw APIFailure(.unsupportedMediaType, "unsupported_media_type",
                             "the body must be JSON with 'Content-Type: application/json' (got \(got))")
        }
        // Strict RFC 8259, nesting at most 64 deep, no recursion (JSONReader).
        let value: JSONValue
        do {
            value = try JSONReader().read(request.body)
        } catch {
            throw .invalid(error.description)  // "invalid JSON: <what> at byte <offset>"
        }
        guard case .object(let object) = value else { throw .invalid("the body must be a JSON object") }
        return object
    }

    /// `application/json`, `application/json; charset=utf-8`, or a `+json` type.
    static func isJSONMediaType(_ value: String) -> Bool {
        let media = value.split(separator: ";", maxSplits: 1).first.map { String($0.trimmingSpaces()) } ?? ""
        let lower = media.lowercased()
        return lower == "application/json" || (lower.hasPrefix("application/") && lower.hasSuffix("+json"))
    }

    /// 400 naming the first field of `object` not in `allowed`.
    static func rejectUnknownFields(_ object: [String: JSONValue], allowed: Set<String>) throws(APIFailure) {
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw .invalid("unknown field '\(unknown)'; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
    }

    /// The query parameters as a dictionary; 400 for a parameter not in `allowed` or given twice.
    static func query(_ request: HTTPRequest, allowed: Set<String>) throws(APIFailure) -> [String: String] {
        var out: [String: String] = [:]
        for item in request.queryItems {
            guard allowed.contains(item.name) else {
                let list = allowed.isEmpty ? "none" : allowed.sorted().joined(separator: ", ")
                throw .invalid("unknown query parameter '\(item.name)'; allowed: \(list)")
            }
            guard out[item.name] == nil else { throw .invalid("query parameter '\(item.name)' given more than once") }
            out[item.name] = item.value
        }
        return out
    }

    /// `POST /v1/jobs` body → an enqueue request for `caller`.
    /// `{type, params?, key?, queue?, max_attempts?, timeout?}`; the admin may add `tenant`
    /// (default `default`), everyone else gets the tenant of their token.
    static func enqueueRequest(_ request: HTTPRequest, caller: APICaller) throws(APIFailure) -> EnqueueRequest {
        guard let body = try jsonObject(request) else {
            throw .invalid("the body must be a JSON object like {\"type\": \"demo.sync\", \"params\": {}}")
        }
        var allowed: Set<String> = ["type", "params", "key", "queue", "max_attempts", "timeout", "headers"]
        if caller == .admin { allowed.insert("tenant") }
        if body["tenant"] != nil, caller != .admin {
            throw .invalid("field 'tenant' is set by your token, not by the request")
        }
        try rejectUnknownFields(body, allowed: allowed)

        guard let typeValue = body["type"], typeValue != .null else { throw .invalid("field 'type' is required") }
        guard case .string(let type) = typeValue else { throw .invalid("field 'type' must be a string") }
        var params: JSONValue? = nil
        switch body["params"] {
        case nil, .null?: break
        case .object?: params = body["params"]
        default: throw .invalid("field 'params' must be a JSON object")
        }
        let key = try optionalString(body, "key")
        let queue = try optionalString(body, "queue") ?? "default"
        var maxAttempts = 3
        switch body["max_attempts"] {
        case nil, .null?: break
        case .number(let n)?:
            // A whole number beyond Int's range is an integer out of range, not "not an integer".
            guard let i = n.intValue ?? (n.isInteger ? Int.max : nil) else { throw .invalid("field 'max_attempts' must be an integer") }
            maxAttempts = i
        default: throw .invalid("field 'max_attempts' must be an integer")
        }
        var timeout: Double? = nil
        switch body["timeout"] {
        case nil, .null?: break
        case .number(let n)?: timeout = n.doubleValue
        default: throw .invalid("field 'timeout' must be a number of seconds")
        }
        let tenant: String
        switch caller {
        case .tenant(let t): tenant = t
        case .admin: tenant = try optionalString(body, "tenant") ?? "default"
        }
        var result = EnqueueRequest(type: type, params: params, tenant: tenant, key: key, queue: queue,
                                    maxAttempts: maxAttempts, timeout: timeout)
        switch body["headers"] {
        case nil, .null?: break
        case .object(let o)?:
            for (name, value) in o {
                guard case .string(let s) = value else { throw .invalid("header '\(name.prefix(64))' must be a string") }
                result.headers[name] = s
            }
        default: throw .invalid("field 'headers' must be a JSON object of strings")
        }
        do {
            try result.validate()
        } catch let e as QuellError {
            throw APIFailure(e)
        } catch {
            throw .invalid("\(error)")
        }
        return result
    }

    private static func optionalString(_ body: [String: JSONValue], _ name: String) throws(APIFailure) -> String? {
        switch body[name] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: throw .invalid("field '\(name)' must be a string")
        }
    }

    /// A number of seconds from a query value, within `range`.
    static func seconds(_ text: String, name: String, range: ClosedRange<Double>) throws(APIFailure) -> Double {
        guard let v = Double(text), v.isFinite, range.contains(v) else {
            throw .invalid("query parameter '\(name)' must be a number of seconds from \(Int(range.lowerBound)) to \(Int(range.upperBound))")
        }
        return v
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var s = self
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}
