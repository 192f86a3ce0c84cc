import Foundation
import Quell
import QuellAPI
import Testing

/// `GET /` and its assets: served from the binary, with a strict CSP, no inline code.
/// (What the page does is tested in Chromium: Tests/browser.)
@Suite struct DashboardTests {
    static let csp = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        + "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    @Test func pageAndAssetsAreServedWithAStrictPolicy() async throws {
        try await withAPI("dashboard", staleAfter: 7.5) { h in
            for (path, type) in [("/", "text/html; charset=utf-8"), ("/app.js", "text/javascript; charset=utf-8"),
                                 ("/app.css", "text/css; charset=utf-8"), ("/favicon.svg", "image/svg+xml")] {
                let r = try await h.call("GET", path, token: nil)
                #expect(r.status == 200, "\(path): \(r.status)")
                #expect(r.header("Content-Type") == type, "\(path)")
                #expect(r.header("Content-Security-Policy") == Self.csp, "\(path)")
                #expect(r.header("X-Content-Type-Options") == "nosniff", "\(path)")
                #expect(r.header("X-Frame-Options") == "DENY", "\(path)")
                #expect(!r.body.isEmpty, "\(path)")
            }
            let page = try await h.call("GET", "/", token: nil).text
            // The settings the script reads: a token is asked for, and the store's stale window.
            #expect(page.contains(#"<body data-auth="token" data-stale-seconds="7.5""#))
            // Nothing inline for the policy to refuse, and nothing from elsewhere.
            #expect(page.components(separatedBy: "<script").count == 2)
            #expect(page.contains(#"<script src="/app.js" defer></script>"#))
            #expect(!page.contains("<style") && !page.contains(" style="))
            #expect(page.range(of: #" on[a-z]+="#, options: .regularExpression) == nil)  // no inline handlers
            #expect(!page.contains("http://") && !page.contains("https://"))
            let script = try await h.call("GET", "/app.js", token: nil).text
            #expect(script.hasPrefix("'use strict';"))
            #expect(!script.contains("innerHTML") && !script.contains("eval(") && !script.contains("://"))
        }
    }

    @Test func noAuthPageAsksForNoToken() async throws {
        try await withAPI("dashboard-noauth", auth: APIAuth(noAuth: true)) { h in
            let page = try await h.call("GET", "/", token: nil).text
            #expect(page.contains(#"data-auth="none""#))
        }
    }

    @Test func anApplicationCanTurnItOff() async throws {
        try await withAPI("dashboard-off", configure: { $0.serveDashboard = false }) { h in
            for path in ["/", "/app.js", "/app.css", "/favicon.svg"] {
                let r = try await h.call("GET", path, token: nil)
                #expect(r.status == 404, "\(path)")
            }
            let health = try await h.call("GET", "/healthz", token: nil)
            #expect(health.status == 200)
        }
    }
}
