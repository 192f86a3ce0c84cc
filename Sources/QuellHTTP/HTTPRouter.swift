/// Routes requests by method and path pattern. Patterns are `/`-separated segments; a
/// segment `:name` matches any one segment and is captured into `pathParameters["name"]`
/// (percent-decoded). Literal segments win over parameters (`/v1/jobs/stats` beats
/// `/v1/jobs/:id`). No route for the path: 404 `not_found`; a route for the path but
/// not the method: 405 `method_not_allowed` with `Allow`. HEAD falls back to GET.
///
/// ```swift
/// var router = HTTPRouter()
/// router.add(.post, "/v1/jobs/:id/cancel") { req in .json(200, ["id": req.pathParameters["id"]!]) }
/// let server = HTTPServer(configuration: config, router: router)
/// ```
public struct HTTPRouter: Sendable {
    private enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    private struct Route: Sendable {
        var method: HTTPMethod
        var segments: [Segment]
        var handler: HTTPHandler
    }

    private var routes: [Route] = []

    /// An empty router (everything is 404).
    public init() {}

    /// Adds a route. `pattern` starts with `/`, e.g. `/v1/jobs/:id`. A later route with the
    /// same method and pattern replaces the earlier one.
    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping HTTPHandler) {
        precondition(pattern.hasPrefix("/"), "route pattern must start with '/': \(pattern)")
        let segments: [Segment] = pattern.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
            $0.hasPrefix(":") && $0.count > 1 ? .parameter(String($0.dropFirst())) : .literal(String($0))
        }
        routes.removeAll { $0.method == method && $0.segments == segments }
        routes.append(Route(method: method, segments: segments, handler: handler))
    }

    /// Adds a GET route.
    public mutating func get(_ pattern: String, _ handler: @escaping HTTPHandler) { add(.get, pattern, handler) }
    /// Adds a POST route.
    public mutating func post(_ pattern: String, _ handler: @escaping HTTPHandler) { add(.post, pattern, handler) }
    /// Adds a PUT route.
    public mutating func put(_ pattern: String, _ handler: @escaping HTTPHandler) { add(.put, pattern, handler) }
    /// Adds a DELETE route.
    public mutating func delete(_ pattern: String, _ handler: @escaping HTTPHandler) { add(.delete, pattern, handler) }

    /// This router as a handler (what `HTTPServer` takes).
    public var handler: HTTPHandler {
        let router = self
        return { request in await router.handle(request) }
    }

    /// Dispatches one request.
    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        let path = request.rawPath.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
            percentDecode($0.utf8, plusAsSpace: false) ?? String($0)
        }
        var best: (route: Route, params: [String: String], rank: [Int])?
        var allowed: Set<String> = []
        for route in routes {
            guard let params = match(route.segments, path) else { continue }
            allowed.insert(route.method.rawValue)
            guard route.method == request.method || (request.method == .head && route.method == .get) else { continue }
            // Literal segments outrank parameters, position by position; an exact HEAD route beats GET.
            let rank = route.segments.map { if case .literal = $0 { 1 } else { 0 } } + [route.method == request.method ? 1 : 0]
            if best == nil || best!.rank.lexicographicallyPrecedes(rank) {
                best = (route, params, rank)
            }
        }
        if let best {
            var request = request
            request.pathParameters = best.params
            return await best.route.handler(request)
        }
        if allowed.isEmpty {
            return .error(.notFound, code: "not_found", message: "no route for \(request.method) \(request.path)")
        }
        if allowed.contains("GET") { allowed.insert("HEAD") }
        let allow = allowed.sorted().joined(separator: ", ")
        return .error(
            .methodNotAllowed, code: "method_not_allowed",
            message: "\(request.method) is not allowed on \(request.path); allowed: \(allow)",
            headers: ["Allow": allow])
    }

    private func match(_ pattern: [Segment], _ path: [String]) -> [String: String]? {
        guard pattern.count == path.count else { return nil }
        var params: [String: String] = [:]
        for (segment, value) in zip(pattern, path) {
            switch segment {
            case .literal(let s): guard s == value else { return nil }
            case .parameter(let name):
                guard !value.isEmpty else { return nil }
                params[name] = value
            }
        }
        return params
    }
}
