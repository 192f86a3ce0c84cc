import QuellHTTP

/// Who is calling: one tenant, or the admin (who sees every tenant).
public enum APICaller: Sendable, Equatable {
    /// A tenant's token: it sees and cancels only that tenant's jobs.
    case tenant(String)
    /// The admin token: every tenant.
    case admin

    /// The tenant to pass to `JobStore` calls: the caller's own, or nil (all tenants) for the admin.
    public var scope: String? {
        switch self {
        case .tenant(let t): return t
        case .admin: return nil
        }
    }
}

/// Bearer tokens and the tenants they map to (DESIGN.md "Configuration":
/// `QUELL_TOKENS`, `QUELL_ADMIN_TOKEN`, `--no-auth`).
public struct APIAuth: Sendable, Equatable {
    /// Token → tenant.
    public var tokens: [String: String]
    /// A token that sees every tenant.
    public var adminToken: String?
    /// No authentication: every request is tenant `default`, and any
    /// `Authorization` header is ignored.
    public var noAuth: Bool

    /// Tokens, an admin token, or no authentication at all.
    public init(tokens: [String: String] = [:], adminToken: String? = nil, noAuth: Bool = false) {
        self.tokens = tokens
        self.adminToken = adminToken
        self.noAuth = noAuth
    }

    /// Whether any request could ever be let in. `quell api` refuses to start otherwise.
    public var admitsAnyone: Bool { noAuth || !tokens.isEmpty || !(adminToken ?? "").isEmpty }

    /// The caller a request's `Authorization: Bearer <token>` names, or a 401 failure
    /// (400 for two `Authorization` fields: which one is meant is not ours to guess).
    /// The HTTP parser already refuses a repeated `Authorization`; this holds for
    /// requests that reach the router some other way too.
    func caller(for request: HTTPRequest) -> Result<APICaller, APIFailure> {
        if noAuth { return .success(.tenant("default")) }
        let values = request.headers.values("Authorization")
        if values.count > 1 {
            return .failure(.invalid("the Authorization header field may appear only once"))
        }
        guard let header = values.first else {
            return .failure(.unauthorized("missing Authorization header: send 'Authorization: Bearer <token>'"))
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            return .failure(.unauthorized("the Authorization header must be 'Bearer <token>'"))
        }
        let token = parts[1].trimmingSpaces()
        // Compare against every configured token in constant time per token, so
        // the time taken does not tell how much of a guess was right.
        var found: APICaller?
        if let admin = adminToken, !admin.isEmpty, constantTimeEquals(token, admin) { found = .admin }
        for (candidate, tenant) in tokens where constantTimeEquals(token, candidate) {
            if found == nil { found = .tenant(tenant) }
        }
        guard let found else { return .failure(.unauthorized("unknown token")) }
        return .success(found)
    }
}

/// Byte-wise comparison whose time depends only on the lengths.
func constantTimeEquals(_ a: some StringProtocol, _ b: some StringProtocol) -> Bool {
    let x = Array(a.utf8)
    let y = Array(b.utf8)
    var difference: UInt8 = x.count == y.count ? 0 : 1
    for i in 0..<max(x.count, y.count) {
        difference |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
    }
    return difference == 0
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
