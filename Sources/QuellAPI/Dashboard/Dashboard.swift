import QuellHTTP

/// The web dashboard (`GET /`): one page, its script, its style sheet and an icon,
/// compiled into the binary as string literals (`DashboardPage`, `DashboardScript`,
/// `DashboardStyle`), so `quell api` serves it with nothing beside it. The page
/// speaks only the public v1 API, like any other client; these routes know
/// nothing of jobs.
///
/// Every asset is served with a strict Content-Security-Policy: scripts and
/// styles only from these routes (no inline code, no other origin), requests
/// only to this origin, no framing.
struct Dashboard: Sendable {
    /// Whether the page asks for a token (false with `--no-auth`).
    let asksForToken: Bool
    /// The store's stale window, so the page flags a heartbeat as stale when the reaper would.
    let staleSeconds: Double

    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        + "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// Adds `GET /`, `/app.js`, `/app.css` and `/favicon.svg` to `router`.
    func add(to router: inout HTTPRouter) {
        let page = Self.asset(DashboardPage.html(asksForToken: asksForToken, staleSeconds: staleSeconds),
                              type: "text/html; charset=utf-8")
        let script = Self.asset(DashboardScript.source, type: "text/javascript; charset=utf-8")
        let style = Self.asset(DashboardStyle.source, type: "text/css; charset=utf-8")
        let icon = Self.asset(DashboardPage.icon, type: "image/svg+xml")
        router.get("/") { _ in page }
        router.get("/app.js") { _ in script }
        router.get("/app.css") { _ in style }
        router.get("/favicon.svg") { _ in icon }
    }

    /// A response built once and served as is.
    static func asset(_ text: String, type: String) -> HTTPResponse {
        HTTPResponse(status: .ok, headers: [
            "Content-Type": type,
            "Content-Security-Policy": contentSecurityPolicy,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY",
            // The assets change with the binary: always revalidate, never serve a stale page.
            "Cache-Control": "no-cache",
        ], body: Array(text.utf8))
    }
}
