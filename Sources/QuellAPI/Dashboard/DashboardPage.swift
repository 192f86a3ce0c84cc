/// The dashboard's HTML and icon. The page carries no script or style of its own
/// (the Content-Security-Policy forbids inline ones): `/app.js` and `/app.css`.
enum DashboardPage {
    /// The page, with the two settings the script reads from `<body>`'s data attributes.
    static func html(asksForToken: Bool, staleSeconds: Double) -> String {
        template
            .replacing("{{AUTH}}", with: asksForToken ? "token" : "none")
            .replacing("{{STALE}}", with: String(staleSeconds))
    }

    static let icon = #"""
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#1d4ed8"/><path d="M9 16a7 7 0 1 1 12.2 4.7l3.3 3.3-2.1 2.1-3.4-3.4A7 7 0 0 1 9 16zm3 0a4 4 0 1 0 8 0 4 4 0 0 0-8 0z" fill="#fff"/></svg>
"""#

    private static let template = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Quell</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body data-auth="{{AUTH}}" data-stale-seconds="{{STALE}}" data-refresh-count="0">
<a class="skip" href="#jobs">Skip to the jobs</a>
<header class="top">
  <h1>Quell</h1>
  <span id="conn" class="conn" data-stream="connecting" role="status">Connecting…</span>
  <button id="sign-out" type="button" class="quiet" hidden>Sign out</button>
</header>
<main>
<section id="signin" class="panel" aria-labelledby="signin-h" hidden>
  <h2 id="signin-h">Sign in</h2>
  <form id="signin-form" class="signin">
    <label for="token">API token</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required>
    <button type="submit" class="primary">Sign in</button>
  </form>
  <p id="signin-error" class="message error" role="alert"></p>
  <p class="hint">The token is kept in this tab only (session storage) and sent as <code>Authorization: Bearer</code>.</p>
</section>

<div id="app" hidden>
<section id="start" class="panel" aria-labelledby="start-h">
  <h2 id="start-h">Start a sync</h2>
  <form id="start-form" class="start">
    <div class="field"><label for="start-type">Type</label>
      <input id="start-type" name="type" value="demo.sync" required autocomplete="off" spellcheck="false"></div>
    <div class="field"><label for="start-key">Key</label>
      <input id="start-key" name="key" placeholder="inbox-1" autocomplete="off" spellcheck="false"></div>
    <fieldset class="field mode"><legend>Mode</legend>
      <label><input type="radio" name="mode" value="full" checked> Full</label>
      <label><input type="radio" name="mode" value="incremental"> Incremental</label>
    </fieldset>
    <div class="field params"><label for="start-params">Params (JSON object; the mode is added as <code>"mode"</code>)</label>
      <textarea id="start-params" name="params" rows="2" spellcheck="false">{"total": 200}</textarea></div>
    <div class="field submit"><button id="start-button" type="submit" class="primary">Start sync</button></div>
  </form>
  <p id="start-message" class="message" role="status"></p>
  <div id="conflict" class="conflict" role="alert" hidden></div>
</section>

<section id="jobs" class="panel" aria-labelledby="jobs-h">
  <div class="section-head">
    <h2 id="jobs-h">Jobs</h2>
    <form id="filter-form" class="filters">
      <span class="filter-field"><label for="filter-status">Status</label>
      <select id="filter-status" name="status">
        <option value="">all</option>
        <option value="queued">queued</option><option value="running">running</option><option value="cancelling">cancelling</option>
        <option value="pausing">pausing</option><option value="paused">paused</option><option value="completed">completed</option>
        <option value="completed_with_errors">completed with errors</option><option value="failed">failed</option><option value="cancelled">cancelled</option><option value="timed_out">timed out</option>
      </select></span>
      <span class="filter-field"><label for="filter-key">Key</label>
      <input id="filter-key" name="key" autocomplete="off" spellcheck="false"></span>
      <button type="submit">Filter</button>
    </form>
  </div>
  <p id="jobs-message" class="message" role="status"></p>
  <div class="jobs-head" aria-hidden="true">
    <span>Status</span><span>Job</span><span>Progress</span><span>Counters</span><span>Elapsed / limit</span><span>Heartbeat</span><span></span>
  </div>
  <ul id="job-list" class="job-list" aria-label="Jobs, running first"></ul>
  <p id="jobs-empty" class="empty" hidden>No jobs.</p>
  <button id="more" type="button" hidden>Load older jobs</button>
</section>

<section id="ops" class="panel" aria-labelledby="ops-h">
  <div class="section-head">
    <h2 id="ops-h">Operations</h2>
    <button id="cleanup" type="button">Clean up stuck syncs</button>
  </div>
  <p id="cleanup-result" class="message" role="status"></p>
  <div class="ops-grid">
    <div><h3>Jobs by status</h3><dl id="counts" class="counts"></dl></div>
    <div><h3>Queues</h3>
      <table id="queues"><thead><tr><th scope="col">Queue</th><th scope="col">Depth</th><th scope="col">Delayed</th></tr></thead><tbody></tbody></table></div>
    <div class="workers"><h3>Workers</h3>
      <table id="workers"><thead><tr><th scope="col">Worker</th><th scope="col">Busy</th><th scope="col">Heartbeat</th></tr></thead><tbody></tbody></table></div>
  </div>
</section>
</div>
</main>

<dialog id="confirm" aria-labelledby="confirm-h" aria-describedby="confirm-text">
  <h2 id="confirm-h">Stop this sync?</h2>
  <p id="confirm-text"></p>
  <div class="actions">
    <button id="confirm-no" type="button">Keep running</button>
    <button id="confirm-yes" type="button" class="danger">Stop sync</button>
  </div>
</dialog>
</body>
</html>
"""#
}
