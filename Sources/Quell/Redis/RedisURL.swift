/// Where and how to reach Redis: `redis://[user:pass@]host:port/db` or
/// `unix:///path/to/socket[?db=N&password=P]`.
public struct RedisURL: Sendable, Equatable, CustomStringConvertible {
    /// The transport to connect over.
    public enum Endpoint: Sendable, Equatable {
        /// A host name or address, and a port.
        case tcp(host: String, port: Int)
        /// A unix socket's path.
        case unix(path: String)
    }

    /// Where Redis listens.
    public var endpoint: Endpoint
    /// The ACL user (`AUTH user pass`); nil for the default user.
    public var username: String?
    /// The password (`AUTH`); nil for none.
    public var password: String?
    /// The database number (`SELECT`).
    public var database: Int

    /// A URL from its parts.
    public init(endpoint: Endpoint, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses a URL; every malformed part is rejected with a message naming it.
    public init(_ string: String) throws(RedisError) {
        let text = string.trimmingWhitespace()
        if text.isEmpty { throw .invalidURL("empty URL") }
        if let rest = text.stripPrefix("redis://") {
            try self.init(tcp: rest, original: text)
        } else if let rest = text.stripPrefix("unix://") {
            try self.init(unix: rest, original: text)
        } else {
            throw .invalidURL("'\(text)': scheme must be redis:// or unix://")
        }
    }

    private init(tcp rest: String, original: String) throws(RedisError) {
        var authority = Substring(rest)
        var path = Substring("")
        if let slash = authority.firstIndex(of: "/") {
            path = authority[authority.index(after: slash)...]
            authority = authority[..<slash]
        }
        if authority.contains("?") || path.contains("?") || path.contains("#") || authority.contains("#") {
            throw .invalidURL("'\(original)': query strings are not supported for redis:// URLs")
        }
        var user: String? = nil
        var pass: String? = nil
        if let at = authority.lastIndex(of: "@") {
            let userinfo = authority[..<at]
            authority = authority[authority.index(after: at)...]
            if let colon = userinfo.firstIndex(of: ":") {
                let u = userinfo[..<colon]
                user = u.isEmpty ? nil : try Self.percentDecode(u, original)
                pass = try Self.percentDecode(userinfo[userinfo.index(after: colon)...], original)
            } else if !userinfo.isEmpty {
                // `redis://secret@host` is the common shorthand for a password only.
                pass = try Self.percentDecode(userinfo, original)
            }
        }
        var host: Substring
        var portText: Substring? = nil
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw .invalidURL("'\(original)': unterminated IPv6 address")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .invalidURL("'\(original)': junk after IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.firstIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        if host.isEmpty { throw .invalidURL("'\(original)': missing host") }
        if host.contains(where: { $0 == " " || $0 == "@" || $0 == "[" || $0 == "]" }) && !authority.hasPrefix("[") {
            throw .invalidURL("'\(original)': invalid host '\(host)'")
        }
        var port = 6379
        if let p = portText {
            guard let n = Int(p), (1...65535).contains(n) else {
                throw .invalidURL("'\(original)': port must be a number from 1 to 65535, got '\(p)'")
            }
            port = n
        }
        var db = 0
        if !path.isEmpty {
            guard let n = Int(path), n >= 0 else {
                throw .invalidURL("'\(original)': database must be a non-negative number, got '\(path)'")
            }
            db = n
        }
        self.init(endpoint: .tcp(host: String(host), port: port), username: user, password: pass, database: db)
    }

    private init(unix rest: String, original: String) throws(RedisError) {
        var pathPart = Substring(rest)
        var query = Substring("")
        if let q = pathPart.firstIndex(of: "?") {
            query = pathPart[pathPart.index(after: q)...]
            pathPart = pathPart[..<q]
        }
        guard pathPart.hasPrefix("/"), pathPart.count > 1 else {
            throw .invalidURL("'\(original)': unix:// needs an absolute socket path (unix:///path/to/redis.sock)")
        }
        var db = 0
        var pass: String? = nil
        var user: String? = nil
        if !query.isEmpty {
            for pair in query.split(separator: "&", omittingEmptySubsequences: false) {
                guard let eq = pair.firstIndex(of: "=") else {
                    throw .invalidURL("'\(original)': query item '\(pair)' has no value")
                }
                let name = pair[..<eq]
                let value = pair[pair.index(after: eq)...]
                switch name {
                case "db":
                    guard let n = Int(value), n >= 0 else {
                        throw .invalidURL("'\(original)': db must be a non-negative number, got '\(value)'")
                    }
                    db = n
                case "password": pass = try Self.percentDecode(value, original)
                case "user", "username": user = try Self.percentDecode(value, original)
                default: throw .invalidURL("'\(original)': unknown query item '\(name)' (use db, password, user)")
                }
            }
        }
        self.init(endpoint: .unix(path: try Self.percentDecode(pathPart, original)), username: user, password: pass, database: db)
    }

    private static func percentDecode(_ s: Substring, _ original: String) throws(RedisError) -> String {
        guard s.contains("%") else { return String(s) }
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%") {
                guard it.count >= 2, let hi = hexValue(it[it.startIndex]), let lo = hexValue(it[it.startIndex + 1]) else {
                    throw .invalidURL("'\(original)': bad percent escape")
                }
                bytes.append(hi << 4 | lo)
                it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// The URL with any password replaced by `***`, safe to log.
    public var description: String {
        let auth: String
        switch (username, password) {
        case (nil, nil): auth = ""
        case (let u?, nil): auth = "\(u)@"
        case (let u, _?): auth = "\(u ?? ""):***@"
        }
        switch endpoint {
        case .tcp(let host, let port):
            let h = host.contains(":") ? "[\(host)]" : host
            return "redis://\(auth)\(h):\(port)/\(database)"
        case .unix(let path):
            var q: [String] = []
            if database != 0 { q.append("db=\(database)") }
            if password != nil { q.append("password=***") }
            return "unix://\(path)" + (q.isEmpty ? "" : "?" + q.joined(separator: "&"))
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }

    func stripPrefix(_ prefix: String) -> String? {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
    }
}
