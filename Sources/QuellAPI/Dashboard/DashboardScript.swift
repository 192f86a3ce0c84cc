/// The dashboard's script, served as `/app.js` (see `Dashboard`). Plain JavaScript, no
/// build step: edit it here. It renders only through `textContent`, never `innerHTML`.
enum DashboardScript {
    static let source = #"""
'use strict';
// Quell's web dashboard. Plain JavaScript on the public v1 API only.
//
// Every job the page knows passes through apply(): it keeps the highest
// `version` seen per job and drops anything not newer, so each change renders
// once whichever path delivers it (the events stream, polling, a list load, an
// answer to a start or a cancel). A job's end (its first terminal version)
// triggers exactly one list refresh.
(() => {
  const body = document.body;
  const AUTH = body.dataset.auth;                          // 'token' or 'none' (--no-auth)
  const STALE_SECONDS = Number(body.dataset.staleSeconds) || 10;
  const POLL_MS = 2000;                                    // while the events stream is down
  // While it is up, a slower poll still runs: heartbeats are not changes (no event), so
  // it keeps heartbeat ages true, and it is a second path whose copies apply() drops.
  const LIVE_POLL_MS = Math.min(5000, STALE_SECONDS * 500);
  const STATS_MS = 5000;
  const STREAM_SILENCE_MS = 40000;                         // > 2 × the API's 15 s heartbeat
  const TERMINAL = new Set(['completed', 'completed_with_errors', 'failed', 'cancelled', 'timed_out']);
  const FINAL_LABEL = {
    completed: 'Completed', completed_with_errors: 'With errors', failed: 'Failed',
    cancelled: 'Cancelled', timed_out: 'Timed out',
  };
  const STATUS_ORDER = ['queued', 'running', 'cancelling', 'pausing', 'paused', 'completed',
    'completed_with_errors', 'failed', 'cancelled', 'timed_out'];
  const BEATING = new Set(['running', 'cancelling', 'pausing']);
  const $ = (id) => document.getElementById(id);

  const state = {
    token: AUTH === 'none' ? '' : (sessionStorage.getItem('quell.token') || ''),
    started: false,
    viewLoaded: false,
    streamController: null,
    jobs: new Map(),        // id → the newest job seen
    versions: new Map(),    // id → the highest version applied (outlives `jobs` entries)
    shown: new Set(),       // ids in the current view (list pages, plus jobs seen since)
    filter: { status: '', key: '' },
    cursor: null,           // next_cursor of the last page loaded
    stopping: new Set(),    // ids whose cancel request is in flight
    conflictId: null,
    clockOffset: 0,         // server time − local time, from responses' Date
    stream: 'connecting',   // 'connecting' | 'live' | 'down' | 'signedout'
    lastEventId: null,
    rows: new Map(),        // id → row elements
  };
  const counters = {
    refreshCount: 0, listLoads: 0, polls: 0, applied: 0, ignored: 0, ignoredFromStream: 0,
    streamOpens: 0, streamEvents: 0,
  };
  const appliedLog = new Map(); // id → versions applied, in order (at most 5000 kept per job)

  // ---------------------------------------------------------------- helpers

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const now = () => Date.now() + state.clockOffset;

  function duration(seconds) {
    if (!Number.isFinite(seconds) || seconds < 0) seconds = 0;
    const s = Math.floor(seconds);
    if (s < 60) return s + 's';
    if (s < 3600) return Math.floor(s / 60) + 'm ' + String(s % 60).padStart(2, '0') + 's';
    return Math.floor(s / 3600) + 'h ' + String(Math.floor(s / 60) % 60).padStart(2, '0') + 'm';
  }
  const age = (iso) => (iso ? (now() - Date.parse(iso)) / 1000 : null);
  const isTerminal = (job) => TERMINAL.has(job.status);
  const statusText = (s) => s.replace(/_/g, ' ');

  function counterEntries(job) {
    const c = (job.progress && job.progress.counters) || {};
    const first = ['synced', 'failed'].filter((k) => k in c);
    const rest = Object.keys(c).filter((k) => !first.includes(k)).sort();
    return first.concat(rest).map((k) => [k, c[k]]);
  }

  function progressText(job) {
    const p = job.progress || {};
    const parts = [];
    if (typeof p.percent === 'number') parts.push(p.percent.toFixed(1) + ' %');
    if (typeof p.current === 'number') parts.push(typeof p.total === 'number' ? p.current + ' of ' + p.total : String(p.current));
    return parts.join(' · ');
  }

  class APIError extends Error {
    constructor(status, code, message, data) {
      super(message);
      this.status = status;
      this.code = code;
      this.data = data;
    }
  }

  function authHeaders(extra) {
    const h = Object.assign({ Accept: 'application/json' }, extra || {});
    if (state.token) h.Authorization = 'Bearer ' + state.token;
    return h;
  }

  function noteClock(response) {
    const date = Date.parse(response.headers.get('Date') || '');
    if (!Number.isFinite(date)) return;
    const offset = date - Date.now();
    // Date has one-second resolution: only a real skew is worth correcting.
    state.clockOffset = Math.abs(offset) > 2000 ? offset : 0;
  }

  async function api(method, path, payload) {
    const init = { method, headers: authHeaders(), cache: 'no-store' };
    if (payload !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(payload);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (e) {
      throw new APIError(0, 'network', 'the API did not answer (' + e.message + ')', null);
    }
    noteClock(response);
    const text = await response.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch (e) { data = null; }
    }
    if (!response.ok) {
      const err = (data && data.error) || {};
      if (response.status === 401 && AUTH !== 'none') signOut('The API refused the token: ' + (err.message || '401'));
      throw new APIError(response.status, err.code || 'http_' + response.status, err.message || 'HTTP ' + response.status, data);
    }
    return data;
  }

  /// Shows a message; `from` names what said it, so a list load clears only its own.
  function say(id, text, kind, from) {
    const p = $(id);
    p.textContent = text || '';
    p.classList.toggle('error', kind === 'error');
    p.dataset.from = from || '';
  }
  function unsay(id, from) {
    if ($(id).dataset.from === from) say(id, '');
  }

  // ------------------------------------------------------- the one way in

  /// Takes a job from any source. Returns true when it was a change (newer version).
  function apply(job, source) {
    if (!job || typeof job.id !== 'string' || typeof job.version !== 'number') return false;
    const known = state.versions.get(job.id);
    if (known !== undefined && job.version <= known) {
      counters.ignored += 1;
      if (source === 'stream') counters.ignoredFromStream += 1;
      if (job.version === known) sameVersion(job, source);
      return false;
    }
    const previous = state.jobs.get(job.id);
    state.versions.set(job.id, job.version);
    state.jobs.set(job.id, job);
    counters.applied += 1;
    let log = appliedLog.get(job.id);
    if (!log) appliedLog.set(job.id, (log = []));
    log.push(job.version);
    if (log.length > 5000) log.shift();
    if (isTerminal(job)) state.stopping.delete(job.id);

    if (source === 'list' || matches(job)) admit(job.id);
    renderJob(job.id);
    if (job.id === state.conflictId) renderConflict();

    // An end: the first terminal version of a job seen running (or queued…), or one
    // delivered as a change (events, polling) for a job this page had not met yet.
    // Lists are snapshots: an old finished job appearing in one is not an end.
    const ended = isTerminal(job) && (previous ? !isTerminal(previous) : (source === 'stream' || source === 'poll'));
    if (ended) refreshAfterEnd();
    else if (!previous || previous.status !== job.status) statsSoon();
    return true;
  }

  /// Counts per status follow status changes, at most once a second.
  let statsTimer = null;
  function statsSoon() {
    if (statsTimer) return;
    statsTimer = setTimeout(() => {
      statsTimer = null;
      if (state.started) loadStats().catch(() => {});
    }, 1000);
  }

  /// A copy of the version the page has: no change, but it may carry a newer heartbeat
  /// (beats are not versioned), and a list may bring back a job the view had dropped.
  function sameVersion(job, source) {
    const current = state.jobs.get(job.id);
    if (!current) {
      if (source !== 'list') return;
      state.jobs.set(job.id, job);
      admit(job.id);
      return;
    }
    if (job.heartbeat_at && (!current.heartbeat_at || Date.parse(job.heartbeat_at) > Date.parse(current.heartbeat_at))) {
      current.heartbeat_at = job.heartbeat_at;
      const row = state.rows.get(job.id);
      if (row) tickRow(row, current);
    }
    if (source === 'list') admit(job.id);
  }

  function matches(job) {
    return (!state.filter.status || job.status === state.filter.status)
      && (!state.filter.key || job.key === state.filter.key);
  }

  function admit(id) {
    if (!state.shown.has(id)) {
      state.shown.add(id);
      scheduleLayout();
    }
  }

  function refreshAfterEnd() {
    counters.refreshCount += 1;
    body.dataset.refreshCount = String(counters.refreshCount);
    loadFirstPage('refresh').catch(() => {});
    loadStats().catch(() => {});
  }

  // ------------------------------------------------------------ job rows

  function rank(job) {
    if (job.status === 'running' || job.status === 'cancelling' || job.status === 'pausing') return 0;
    if (!isTerminal(job)) return 1;
    return 2;
  }

  let layoutScheduled = false;
  function scheduleLayout() {
    if (layoutScheduled) return;
    layoutScheduled = true;
    queueMicrotask(layout);
  }

  /// Puts the view's rows in order: running first, then waiting, then finished; newest first in each.
  function layout() {
    layoutScheduled = false;
    const list = $('job-list');
    const visible = [...state.shown].map((id) => state.jobs.get(id)).filter((j) => j && matches(j));
    visible.sort((a, b) => rank(a) - rank(b) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    const wanted = new Set(visible.map((j) => j.id));
    for (const [id, row] of state.rows) {
      if (!wanted.has(id)) {
        row.li.remove();
        state.rows.delete(id);
      }
    }
    const focused = document.activeElement;
    let cursor = list.firstElementChild;
    for (const job of visible) {
      const row = state.rows.get(job.id) || buildRow(job.id);
      if (row.li !== cursor) list.insertBefore(row.li, cursor);
      else cursor = cursor.nextElementSibling;
    }
    // Moving a row can take the focus with it: give it back.
    if (focused && focused !== document.activeElement && focused.isConnected) focused.focus();
    $('jobs-empty').hidden = visible.length > 0;
    prune();
  }

  /// Forgets finished jobs that are out of view (their versions stay, so a late copy is still dropped).
  function prune() {
    if (state.jobs.size > 2000) {
      for (const [id, job] of state.jobs) {
        if (state.jobs.size <= 1500) break;
        if (!state.shown.has(id) && isTerminal(job) && id !== state.conflictId) {
          state.jobs.delete(id);
          appliedLog.delete(id);
        }
      }
    }
    if (state.versions.size > 50000) {
      for (const id of state.versions.keys()) {
        if (state.versions.size <= 40000) break;
        if (!state.jobs.has(id)) state.versions.delete(id);
      }
    }
  }

  function buildRow(id) {
    const li = el('li', 'job');
    li.dataset.jobId = id;
    const r = { li, renders: 0 };
    const status = el('div', 'c-status');
    r.badge = el('span', 'badge');
    r.stage = el('span', 'stage');
    status.append(r.badge, r.stage);
    const what = el('div', 'c-what');
    r.type = el('span', 'type');
    r.key = el('span', 'key');
    r.meta = el('span', 'meta');
    what.append(r.type, r.key, r.meta);
    const prog = el('div', 'c-progress');
    r.bar = el('progress');
    r.bar.max = 100;
    r.progress = el('span', 'progress-text');
    prog.append(r.bar, r.progress);
    r.counters = el('div', 'c-counters');
    const time = el('div', 'c-time');
    r.elapsed = el('span', 'elapsed');
    time.append(r.elapsed);
    const beat = el('div', 'c-beat');
    r.beat = el('span', 'beat');
    beat.append(r.beat);
    const action = el('div', 'c-action');
    r.button = el('button', 'stop');
    r.button.type = 'button';
    r.button.addEventListener('click', () => requestStop(id));
    action.append(r.button);
    r.error = el('div', 'c-error');
    li.append(status, what, prog, r.counters, time, beat, action, r.error);
    state.rows.set(id, r);
    fillRow(r, state.jobs.get(id));
    return r;
  }

  function renderJob(id) {
    const row = state.rows.get(id);
    if (row) fillRow(row, state.jobs.get(id));
    scheduleLayout();
  }

  function fillRow(r, job) {
    r.renders += 1;
    r.li.dataset.status = job.status;
    r.li.dataset.version = String(job.version);
    r.li.dataset.renders = String(r.renders);
    r.badge.textContent = statusText(job.status);
    r.badge.className = 'badge s-' + job.status;
    r.stage.textContent = (job.progress && job.progress.stage) ? statusText(job.progress.stage) : '';
    r.type.textContent = job.type;
    r.key.textContent = job.key || '(no key)';
    r.key.classList.toggle('none', !job.key);
    const meta = [job.id, 'tenant ' + job.tenant];
    if (job.queue !== 'default') meta.push('queue ' + job.queue);
    if (job.attempt > 1) meta.push('attempt ' + job.attempt + ' of ' + job.max_attempts);
    if (typeof job.resumes === 'number' && job.resumes > 0) meta.push('resumed ' + job.resumes + '×');
    r.meta.textContent = meta.join(' · ');
    const p = job.progress || {};
    if (typeof p.percent === 'number') r.bar.value = Math.max(0, Math.min(100, p.percent));
    else if (isTerminal(job) && job.status.startsWith('completed')) r.bar.value = 100;
    else r.bar.removeAttribute('value'); // indeterminate
    r.bar.setAttribute('aria-label', 'progress of ' + (job.key || job.id));
    r.progress.textContent = progressText(job) || (job.status === 'queued' ? 'waiting' : '');
    r.counters.replaceChildren(...counterEntries(job).map(([name, n]) => {
      const c = el('span', 'counter');
      c.dataset.counter = name;
      c.append(el('b', null, n), ' ' + name);
      return c;
    }));
    r.error.textContent = job.error || '';
    r.error.hidden = !job.error;
    fillAction(r.button, job);
    tickRow(r, job);
  }

  /// The row's one button: Stop, Stopping… while the cancel lands, then the outcome.
  function fillAction(button, job) {
    let label;
    let kind;
    if (isTerminal(job)) {
      label = FINAL_LABEL[job.status] || statusText(job.status);
      kind = 'final';
    } else if (job.status === 'cancelling' || state.stopping.has(job.id)) {
      label = 'Stopping…';
      kind = 'stopping';
    } else {
      label = 'Stop';
      kind = 'stop';
    }
    if (button.textContent !== label) button.textContent = label;
    button.dataset.kind = kind;
    button.setAttribute('aria-disabled', kind === 'stop' ? 'false' : 'true');
    button.setAttribute('aria-label', kind === 'stop' ? 'Stop ' + (job.key || job.id) : label + ': ' + (job.key || job.id));
  }

  /// The time-dependent cells (elapsed, heartbeat age), redrawn every second.
  function tickRow(r, job) {
    let elapsed = '';
    if (job.started_at) {
      const end = job.completed_at ? Date.parse(job.completed_at) : now();
      elapsed = duration((end - Date.parse(job.started_at)) / 1000);
    } else if (job.status === 'queued') {
      elapsed = 'queued ' + duration(age(job.created_at));
    }
    if (typeof job.expected_duration_seconds === 'number' && !isTerminal(job)) {
      elapsed += ' / ' + duration(job.expected_duration_seconds);
    }
    r.elapsed.textContent = elapsed;
    let beat = '';
    let stale = false;
    if (BEATING.has(job.status) && job.heartbeat_at) {
      const a = age(job.heartbeat_at);
      stale = a > STALE_SECONDS;
      beat = (stale ? 'stale · ' : '') + duration(a) + ' ago';
    }
    r.beat.textContent = beat;
    r.beat.classList.toggle('stale', stale);
    r.li.classList.toggle('is-stale', stale);
  }

  // ----------------------------------------------------------- list loads

  function listQuery(cursor) {
    const q = new URLSearchParams();
    if (state.filter.status) q.set('status', state.filter.status);
    if (state.filter.key) q.set('key', state.filter.key);
    q.set('limit', '50');
    if (cursor) q.set('cursor', cursor);
    return '/v1/jobs?' + q.toString();
  }

  /// The view's first page: `source` is 'list' (a new view, or a refresh) or 'poll'.
  async function loadFirstPage(kind) {
    const filter = Object.assign({}, state.filter);
    const page = await api('GET', listQuery(null));
    if (filter.status !== state.filter.status || filter.key !== state.filter.key) return page; // the view changed meanwhile
    if (kind === 'poll') counters.polls += 1; else counters.listLoads += 1;
    if (kind === 'view') state.cursor = page.next_cursor;
    for (const job of page.jobs) apply(job, kind === 'poll' ? 'poll' : 'list');
    $('more').hidden = !state.cursor;
    unsay('jobs-message', 'list');
    return page;
  }

  async function loadView() {
    state.shown.clear();
    state.cursor = null;
    scheduleLayout();
    try {
      await loadFirstPage('view');
    } catch (e) {
      say('jobs-message', 'Could not load the jobs: ' + e.message, 'error', 'list');
    }
  }

  async function loadMore() {
    if (!state.cursor) return;
    const button = $('more');
    button.setAttribute('aria-busy', 'true');
    try {
      const page = await api('GET', listQuery(state.cursor));
      state.cursor = page.next_cursor;
      for (const job of page.jobs) apply(job, 'list');
      button.hidden = !state.cursor;
    } catch (e) {
      say('jobs-message', 'Could not load older jobs: ' + e.message, 'error', 'list');
    } finally {
      button.removeAttribute('aria-busy');
    }
  }

  /// One poll: the view's first page, and each active job of the view that page did not carry.
  async function poll() {
    const page = await loadFirstPage('poll');
    const seen = new Set(page.jobs.map((j) => j.id));
    const others = [...state.shown].filter((id) => {
      const job = state.jobs.get(id);
      return job && !isTerminal(job) && !seen.has(id);
    }).slice(0, 20);
    await Promise.all(others.map(async (id) => {
      try { apply(await api('GET', '/v1/jobs/' + encodeURIComponent(id)), 'poll'); } catch (e) { /* next poll */ }
    }));
  }

  async function pollLoop() {
    let last = Date.now();
    for (;;) {
      await sleep(250);
      if (!state.started || !state.viewLoaded) continue;
      if (Date.now() - last < (state.stream === 'live' ? LIVE_POLL_MS : POLL_MS)) continue;
      last = Date.now();
      try {
        await poll();
      } catch (e) {
        if (e.status !== 401) say('jobs-message', 'Polling failed: ' + e.message, 'error', 'list');
      }
    }
  }

  /// The view's first load, once per sign-in: when the stream has opened (it runs from
  /// then, so no change falls between), or when it could not, or after 3 s at most.
  function ensureView() {
    if (state.viewLoaded || !state.started) return;
    state.viewLoaded = true;
    loadView();
  }

  // -------------------------------------------------------- events stream

  function setStream(s) {
    state.stream = s;
    const c = $('conn');
    c.dataset.stream = s;
    c.textContent = { live: 'Live', down: 'Polling: stream down', signedout: 'Not signed in' }[s] || 'Connecting…';
  }

  /// Follows `/v1/events` with fetch (so the token goes in a header, never in a URL),
  /// resuming after a drop with `Last-Event-ID`; polling covers the time it is down.
  async function streamLoop() {
    let delay = 1000;
    for (;;) {
      if (!state.started) { await sleep(250); continue; }
      const controller = new AbortController();
      state.streamController = controller;
      let silence = null;
      const watch = () => {
        clearTimeout(silence);
        silence = setTimeout(() => controller.abort(), STREAM_SILENCE_MS);
      };
      try {
        const headers = authHeaders({ Accept: 'text/event-stream' });
        if (state.lastEventId) headers['Last-Event-ID'] = state.lastEventId;
        watch();
        const response = await fetch('/v1/events', { headers, cache: 'no-store', signal: controller.signal });
        if (response.status === 401 && AUTH !== 'none') { signOut('The API refused the token.'); continue; }
        if (!response.ok || !response.body) throw new Error('events answered ' + response.status);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        const parser = sseParser({
          comment(text) {
            const m = /^quell events from (\d+-\d+(?:\.\d+)?)/.exec(text);
            if (m && !state.lastEventId) state.lastEventId = m[1];
            if (state.stream !== 'live') {
              counters.streamOpens += 1;
              setStream('live');
              delay = 1000;
              ensureView();
            }
          },
          event(ev) {
            if (ev.id) state.lastEventId = ev.id;
            if (ev.event !== 'job') return;
            counters.streamEvents += 1;
            try { apply(JSON.parse(ev.data), 'stream'); } catch (e) { /* a malformed event is skipped */ }
          },
        });
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          watch();
          parser(value);
        }
      } catch (e) {
        // Dropped, refused or silent: fall through to polling and a retry.
      } finally {
        clearTimeout(silence);
        controller.abort();
      }
      if (!state.started || controller.signal.reason === 'restart') continue;
      if (state.stream !== 'down') {
        setStream('down');
        if (state.viewLoaded) poll().catch(() => {});
        else ensureView();
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 8000);
    }
  }

  /// An incremental text/event-stream parser (WHATWG HTML § 9.2.6).
  function sseParser(handlers) {
    let buffer = '';
    let ev = { id: '', event: '', data: [] };
    return (chunk) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop();
      for (let line of lines) {
        if (line.endsWith('\r')) line = line.slice(0, -1);
        if (line === '') {
          if (ev.data.length) handlers.event({ id: ev.id, event: ev.event || 'message', data: ev.data.join('\n') });
          ev = { id: '', event: '', data: [] };
        } else if (line[0] === ':') {
          handlers.comment(line.slice(1).trimStart());
        } else {
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          let value = colon < 0 ? '' : line.slice(colon + 1);
          if (value[0] === ' ') value = value.slice(1);
          if (field === 'data') ev.data.push(value);
          else if (field === 'id') ev.id = value;
          else if (field === 'event') ev.event = value;
        }
      }
    };
  }

  // ------------------------------------------------------------ actions

  async function startJob(event) {
    event.preventDefault();
    const type = $('start-type').value.trim();
    const key = $('start-key').value.trim();
    const mode = document.querySelector('input[name="mode"]:checked').value;
    let params = {};
    const text = $('start-params').value.trim();
    if (text) {
      try { params = JSON.parse(text); } catch (e) {
        say('start-message', 'Params are not JSON: ' + e.message, 'error');
        return;
      }
      if (!params || typeof params !== 'object' || Array.isArray(params)) {
        say('start-message', 'Params must be a JSON object.', 'error');
        return;
      }
    }
    params.mode = mode;
    const request = { type, params };
    if (key) request.key = key;
    const button = $('start-button');
    button.setAttribute('aria-busy', 'true');
    button.disabled = true;
    try {
      const job = await api('POST', '/v1/jobs', request);
      state.conflictId = null;
      renderConflict();
      apply(job, 'start');
      admit(job.id);
      say('start-message', 'Started ' + job.type + (job.key ? ' ' + job.key : '') + ' (job ' + job.id + ', ' + mode + ').');
    } catch (e) {
      if (e.status === 409 && e.data && e.data.job) {
        apply(e.data.job, 'conflict');
        state.conflictId = e.data.job.id;
        say('start-message', '');
        renderConflict();
      } else {
        say('start-message', 'Could not start: ' + e.message, 'error');
      }
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  }

  /// The 409 answer: which job holds the key, how far it got, and a Stop for it.
  function renderConflict() {
    const box = $('conflict');
    const job = state.conflictId && state.jobs.get(state.conflictId);
    if (!job) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    box.hidden = false;
    box.dataset.jobId = job.id;
    const p = el('p', 'conflict-text');
    const progress = progressText(job);
    const counts = counterEntries(job).map(([k, n]) => k + ' ' + n).join(', ');
    if (isTerminal(job)) {
      p.append(el('strong', null, job.key || job.id), ' was held by job ', el('code', null, job.id),
        ', which has ended: ' + statusText(job.status) + (counts ? ' (' + counts + ')' : '') + '. You can start it again.');
    } else {
      p.append(el('strong', null, job.key || job.id), ' is already syncing: job ', el('code', null, job.id),
        ' (' + job.type + ') is ' + statusText(job.status) + (progress ? ', ' + progress : '') + (counts ? ', ' + counts : '') + '.');
    }
    let stop = box.querySelector('button.stop');
    let dismiss = box.querySelector('button.dismiss');
    if (!stop) {
      stop = el('button', 'stop');
      stop.type = 'button';
      stop.addEventListener('click', () => requestStop(state.conflictId));
      dismiss = el('button', 'dismiss quiet', 'Dismiss');
      dismiss.type = 'button';
      dismiss.addEventListener('click', () => {
        state.conflictId = null;
        renderConflict();
        $('start-button').focus();
      });
    }
    fillAction(stop, job);
    const actions = el('div', 'actions');
    actions.append(stop, dismiss);
    box.replaceChildren(p, actions);
  }

  let confirmResolve = null;
  function confirmStop(job) {
    const dialog = $('confirm');
    const what = (job.key ? job.key + ' (' + job.type + ')' : job.type) + ', job ' + job.id;
    $('confirm-text').textContent = job.status === 'queued' || job.status === 'paused'
      ? what + ' is not running: it will be cancelled at once.'
      : what + ' stops at its next checkpoint and keeps what it has synced so far.';
    dialog.showModal();
    return new Promise((resolve) => { confirmResolve = resolve; });
  }
  function closeConfirm(answer) {
    const dialog = $('confirm');
    if (dialog.open) dialog.close();
    if (confirmResolve) { const r = confirmResolve; confirmResolve = null; r(answer); }
  }

  async function requestStop(id) {
    const job = state.jobs.get(id);
    if (!job || isTerminal(job) || job.status === 'cancelling' || state.stopping.has(id)) return;
    if (!(await confirmStop(job))) return;
    state.stopping.add(id);
    renderJob(id);
    if (id === state.conflictId) renderConflict();
    try {
      apply(await api('POST', '/v1/jobs/' + encodeURIComponent(id) + '/cancel', {}), 'cancel');
    } catch (e) {
      state.stopping.delete(id);
      if (e.status === 409 && e.data && e.data.job) apply(e.data.job, 'cancel');
      else say('jobs-message', 'Could not stop ' + id + ': ' + e.message, 'error');
    }
    renderJob(id);
    if (id === state.conflictId) renderConflict();
  }

  async function cleanup() {
    const button = $('cleanup');
    button.setAttribute('aria-busy', 'true');
    button.disabled = true;
    try {
      const result = await api('POST', '/v1/cleanup', {});
      for (const job of result.jobs) apply(job, 'cleanup');
      const list = result.jobs.map((j) => (j.key || j.id) + ' → ' + statusText(j.status)).join(', ');
      say('cleanup-result', result.cleaned === 0 ? 'Nothing was stuck.'
        : 'Cleaned up ' + result.cleaned + ' stuck sync' + (result.cleaned === 1 ? '' : 's') + ': ' + list + '.');
      loadStats().catch(() => {});
    } catch (e) {
      say('cleanup-result', 'Cleanup failed: ' + e.message, 'error');
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  }

  // --------------------------------------------------------------- stats

  let lastStats = null;
  async function loadStats() {
    lastStats = await api('GET', '/v1/stats');
    renderStats();
  }

  function renderStats() {
    const s = lastStats;
    if (!s) return;
    const counts = $('counts');
    const names = STATUS_ORDER.concat(Object.keys(s.counts).filter((k) => !STATUS_ORDER.includes(k)))
      .filter((k) => k in s.counts);
    counts.replaceChildren(...names.map((k) => {
      const d = el('div', 'count s-' + k);
      d.dataset.status = k;
      d.append(el('dt', null, statusText(k)), el('dd', null, s.counts[k]));
      return d;
    }));
    const queues = $('queues').tBodies[0];
    queues.replaceChildren(...(s.queues.length ? s.queues.map((q) => {
      const tr = el('tr');
      tr.append(el('td', 'name', q.name), el('td', 'num', q.depth), el('td', 'num', q.scheduled));
      return tr;
    }) : [emptyRow(3, 'no queues yet')]));
    const workers = $('workers').tBodies[0];
    workers.replaceChildren(...(s.workers.length ? s.workers.map((w) => {
      const tr = el('tr');
      tr.dataset.worker = w.id;
      const beat = el('td', 'beat');
      beat.dataset.at = w.last_beat || '';
      tr.append(el('td', 'name', w.id), el('td', 'num', w.busy + ' / ' + w.slots), beat);
      return tr;
    }) : [emptyRow(3, 'no live workers')]));
    tickWorkers();
  }

  function emptyRow(span, text) {
    const tr = el('tr', 'none');
    const td = el('td', null, text);
    td.colSpan = span;
    tr.append(td);
    return tr;
  }

  function tickWorkers() {
    for (const td of document.querySelectorAll('#workers td.beat')) {
      const a = age(td.dataset.at);
      const stale = a !== null && a > STALE_SECONDS;
      td.textContent = a === null ? '—' : (stale ? 'stale · ' : '') + duration(a) + ' ago';
      td.classList.toggle('stale', stale);
    }
  }

  async function statsLoop() {
    for (;;) {
      if (state.started) loadStats().catch(() => {});
      await sleep(STATS_MS);
    }
  }

  function tick() {
    for (const [id, row] of state.rows) {
      const job = state.jobs.get(id);
      if (job && (!isTerminal(job) || !row.elapsed.textContent)) tickRow(row, job);
    }
    tickWorkers();
  }

  // ------------------------------------------------------------- sign-in

  function showApp() {
    $('signin').hidden = true;
    $('app').hidden = false;
    $('sign-out').hidden = AUTH === 'none';
    state.started = true;
  }

  function signOut(message) {
    sessionStorage.removeItem('quell.token');
    state.token = '';
    state.started = false;
    if (state.streamController) state.streamController.abort('restart');
    $('app').hidden = true;
    $('sign-out').hidden = true;
    $('signin').hidden = false;
    say('signin-error', message || '', message ? 'error' : undefined);
    setStream('signedout');
    $('token').focus();
  }

  async function signIn(event) {
    event.preventDefault();
    const token = $('token').value.trim();
    if (!token) return;
    state.token = token;
    try {
      lastStats = await api('GET', '/v1/stats');
    } catch (e) {
      state.token = '';
      say('signin-error', e.status === 401 ? 'That token is not known to this API.' : 'Could not sign in: ' + e.message, 'error');
      return;
    }
    sessionStorage.setItem('quell.token', token);
    $('token').value = '';
    say('signin-error', '');
    begin();
  }

  /// Starts (or restarts, after a new sign-in) with a clean slate; counters count from here.
  function begin() {
    for (const k of Object.keys(counters)) counters[k] = 0;
    body.dataset.refreshCount = '0';
    state.jobs.clear();
    state.versions.clear();
    state.shown.clear();
    state.lastEventId = null;
    state.viewLoaded = false;
    if (state.streamController) state.streamController.abort('restart');
    setStream('connecting');
    appliedLog.clear();
    for (const row of state.rows.values()) row.li.remove();
    state.rows.clear();
    showApp();
    renderStats();
    loadStats().catch(() => {});
    setTimeout(ensureView, 3000);
    $('start-type').focus();
  }

  // ----------------------------------------------------------------- boot

  $('signin-form').addEventListener('submit', signIn);
  $('sign-out').addEventListener('click', () => signOut(''));
  $('start-form').addEventListener('submit', startJob);
  $('filter-form').addEventListener('submit', (event) => {
    event.preventDefault();
    state.filter = { status: $('filter-status').value, key: $('filter-key').value.trim() };
    loadView();
  });
  $('more').addEventListener('click', loadMore);
  $('cleanup').addEventListener('click', cleanup);
  $('confirm-yes').addEventListener('click', () => closeConfirm(true));
  $('confirm-no').addEventListener('click', () => closeConfirm(false));
  $('confirm').addEventListener('cancel', () => closeConfirm(false)); // Escape
  $('confirm').addEventListener('close', () => closeConfirm(false));

  // What tests (and the curious) can read: counters, and the versions each job rendered.
  window.quellDashboard = Object.freeze({
    snapshot: () => Object.assign({ stream: state.stream, lastEventId: state.lastEventId }, counters),
    versions: (id) => (appliedLog.get(id) || []).slice(),
    renders: (id) => (state.rows.get(id) || { renders: 0 }).renders,
    pollNow: () => poll().then(() => true),
  });

  if (AUTH === 'none' || state.token) begin();
  else signOut('');
  streamLoop();
  pollLoop();
  statsLoop();
  setInterval(tick, 1000);
})();
"""#
}
