"""The web dashboard (`GET /` on `quell api`) in real Chromium: issue 18's acceptance.

One browser session serves the whole module (two windows of it), and the tests build
on each other in file order: a sync started in the first is stopped in the third and
looked at from a second window in the fourth. Every wait is for a state (of the page's
DOM, or of the API); none depends on how long anything takes."""

import base64
import json
import os
import re
import time
from datetime import datetime, timezone

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from harness import ADMIN, EventsProxy, Processes, ROOT, chromium, wait_for

# Syncs that must still run when a test acts on them run until told to stop:
# a million items in batches of 5, 40 ms per item (a progress write every batch).
ENDLESS = {"total": 1000000, "batch": 5, "delay_ms": 40}
SHORT = {"total": 20, "batch": 5, "delay_ms": 1}
SCREENSHOTS = os.path.join(ROOT, "docs", "screenshots")


@pytest.fixture(scope="module")
def env(request):
    p = Processes()
    try:
        p.start()
        proxy = EventsProxy(p.api_port)
        driver = chromium()
    except Exception:
        print(p.logs())
        p.stop()
        raise
    e = Env(p, proxy, driver)
    yield e
    try:
        if request.session.testsfailed:
            print(p.logs())
        driver.quit()
    finally:
        p.stop()


class Env:
    def __init__(self, processes, proxy, driver):
        self.p = processes
        self.proxy = proxy
        self.d = driver
        self.windows = {}       # name → window handle
        self.ended = {}         # name → ids of jobs that ended since that window signed in
        self.allowed = []       # console errors the current test expects (regexes)
        self.jobs = {}          # name → job id

    # --- windows and the page

    def window(self, name):
        self.d.switch_to.window(self.windows[name])

    def sign_in(self, name, token):
        self.d.get(self.proxy.url("/"))
        field = wait_for(lambda: self.d.find_element(By.ID, "token"), "the sign-in field")
        field.send_keys(token, Keys.ENTER)
        self.wait_stream(name, "live")
        self.ended[name] = set()

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    def snapshot(self):
        return self.js("return window.quellDashboard.snapshot()")

    def stream_state(self):
        return self.js("return document.getElementById('conn').dataset.stream")

    def wait_stream(self, name, state):
        wait_for(lambda: self.stream_state() == state, f"{name}'s events stream to be {state}")

    def row(self, job_id):
        """What the page shows for a job, read from its DOM row (None without one)."""
        return self.js("""
            const li = document.querySelector('li.job[data-job-id="' + arguments[0] + '"]');
            if (!li) return null;
            const button = li.querySelector('button.stop');
            const counters = {};
            for (const c of li.querySelectorAll('.counter')) counters[c.dataset.counter] = Number(c.querySelector('b').textContent);
            return {status: li.dataset.status, version: Number(li.dataset.version), renders: Number(li.dataset.renders),
                    button: button.textContent, buttonWidth: button.getBoundingClientRect().width,
                    buttonHeight: button.getBoundingClientRect().height,
                    progress: li.querySelector('.progress-text').textContent, counters,
                    key: li.querySelector('.key').textContent, meta: li.querySelector('.meta').textContent};
        """, job_id)

    def conflict(self):
        """The conflict message as shown: its text and its button's label (None when hidden)."""
        return self.js("""
            const box = document.getElementById('conflict');
            if (box.hidden) return null;
            const p = box.querySelector('.conflict-text'), b = box.querySelector('button.stop');
            return {text: p ? p.textContent : '', button: b ? b.textContent : null, jobId: box.dataset.jobId};
        """)

    def wait_row(self, job_id, what, condition):
        return wait_for(lambda: (lambda r: r if r and condition(r) else None)(self.row(job_id)),
                        f"job {job_id}'s row: {what}")

    def start_from_form(self, key, params, mode="full"):
        """Fills the start form and submits it with Enter. Returns the message shown."""
        self.js("document.getElementById('start-message').textContent = ''")
        key_field = self.d.find_element(By.ID, "start-key")
        key_field.clear()
        key_field.send_keys(key)
        params_field = self.d.find_element(By.ID, "start-params")
        params_field.clear()
        params_field.send_keys(json.dumps(params))
        self.d.find_element(By.CSS_SELECTOR, f'input[name="mode"][value="{mode}"]').click()
        key_field.send_keys(Keys.ENTER)

    def started_id(self):
        text = wait_for(lambda: self.d.find_element(By.ID, "start-message").text or
                        (lambda c: "conflict: " + c["text"] if c else "")(self.conflict()), "the start message")
        m = re.search(r"\(job ([0-9A-Z]{26})", text)
        assert m, f"start message names no job: {text!r}"
        return m.group(1)

    def confirm_stop_with_keyboard(self, button):
        """Stop → the confirmation dialog (focus on "Keep running") → Tab → Enter on "Stop sync"."""
        button.send_keys(Keys.ENTER)
        wait_for(lambda: self.js("return document.getElementById('confirm').open"), "the confirmation dialog")
        assert self.js("return document.activeElement.id") == "confirm-no", "the dialog should focus the safe choice"
        self.d.switch_to.active_element.send_keys(Keys.TAB)
        assert self.js("return document.activeElement.id") == "confirm-yes"
        # Focus is visible: the keyboard's focus ring is drawn.
        assert self.js("const s = getComputedStyle(document.activeElement); return s.outlineStyle + ' ' + s.outlineWidth") == "solid 3px"
        self.d.switch_to.active_element.send_keys(Keys.ENTER)
        wait_for(lambda: not self.js("return document.getElementById('confirm').open"), "the dialog to close")

    def stop_button(self, job_id):
        return self.d.find_element(By.CSS_SELECTOR, f'li.job[data-job-id="{job_id}"] button.stop')

    # --- checks

    def console_errors(self):
        """The console's errors since the last call, less those the test expects."""
        errors = [e for e in self.d.get_log("browser") if e["level"] == "SEVERE"]
        return [e for e in errors if not any(re.search(a, e["message"]) for a in self.allowed)]

    def wait_caught_up(self):
        """Until the page's events stream has delivered everything in Redis's stream now
        (the newest event must be one this window may see)."""
        target = stream_id(self.p.last_event_id())
        wait_for(lambda: stream_id(self.snapshot()["lastEventId"]) >= target, "the page to catch up with the stream")

    def assert_matches_api(self, job_id, row=None, token="tok-acme"):
        job = self.p.job(job_id, token=token)
        row = row or self.row(job_id)
        assert row["status"] == job["status"], (row, job["status"])
        assert row["version"] == job["version"], (row, job["version"])
        assert row["counters"] == job["progress"]["counters"], (row["counters"], job["progress"])
        p = job["progress"]
        assert f'{p["current"]} of {p["total"]}' in row["progress"], (row["progress"], p)
        return job


def stream_id(text):
    ms, _, seq = (text or "0-0").partition("-")
    return (int(ms), int(seq or 0))


@pytest.fixture(autouse=True)
def no_console_errors(env):
    env.allowed = []
    yield
    for name in env.windows:
        env.window(name)
        errors = env.console_errors()
        assert not errors, f"console errors in window {name}: {errors}"


def test_start_a_sync_and_see_it_progress(env):
    env.windows["one"] = env.d.current_window_handle
    env.sign_in("one", "tok-acme")
    env.start_from_form("inbox-a", ENDLESS)
    a = env.jobs["a"] = env.started_id()
    first = env.wait_row(a, "running with progress", lambda r: r["status"] == "running" and r["counters"].get("synced", 0) > 0)
    assert "of 1000000" in first["progress"] and first["key"] == "inbox-a" and "tenant acme" in first["meta"]
    assert env.p.job(a)["params"] == dict(ENDLESS, mode="full")
    env.wait_row(a, "further progress", lambda r: r["counters"]["synced"] > first["counters"]["synced"]
                 and r["version"] > first["version"])


def test_a_duplicate_start_names_the_running_job(env):
    env.allowed = [r"/v1/jobs - Failed to load resource: the server responded with a status of 409"]
    a = env.jobs["a"]
    env.start_from_form("inbox-a", ENDLESS, mode="incremental")
    box = wait_for(env.conflict, "the conflict message")
    text = box["text"]
    assert "inbox-a is already syncing" in text and a in text and "running" in text and "of 1000000" in text, text
    assert box["button"] == "Stop" and box["jobId"] == a
    # The 409 is the one console error, and it is the API's answer, not the page's fault.
    errors = [e for e in env.d.get_log("browser") if e["level"] == "SEVERE"]
    assert len(errors) == 1 and "409" in errors[0]["message"], errors


def test_cleanup_closes_a_stuck_sync_and_says_so(env):
    # A sync whose worker froze past its deadline is stuck: the action closes it now
    # (the reaper would wait a stale window more).
    e = env.jobs["e"] = stuck_job(env)
    try:
        env.d.find_element(By.ID, "cleanup").send_keys(Keys.ENTER)
        result = wait_for(lambda: env.d.find_element(By.ID, "cleanup-result").text, "the cleanup result")
        assert result.startswith("Cleaned up 1 stuck sync") and "inbox-stuck" in result and "timed out" in result, result
    finally:
        env.p.thaw_worker()
    assert env.p.job(e)["status"] == "timed_out"
    env.wait_row(e, "timed out", lambda r: r["status"] == "timed_out" and r["button"] == "Timed out")
    env.ended["one"].add(e)


def test_stop_shows_stopping_then_cancelled_with_the_api_counts(env):
    a = env.jobs["a"]
    before = env.row(a)
    assert before["button"] == "Stop"
    # Frozen, the worker cannot confirm the cancel: the page must hold "Stopping…"
    # for as long as the API says `cancelling`.
    env.p.freeze_worker()
    try:
        env.confirm_stop_with_keyboard(env.stop_button(a))
        stopping = env.wait_row(a, "Stopping… while cancelling", lambda r: r["status"] == "cancelling" and r["button"] == "Stopping…")
        assert env.p.job(a)["status"] == "cancelling"
        assert env.conflict()["button"] == "Stopping…"
    finally:
        env.p.thaw_worker()
    done = env.wait_row(a, "Cancelled", lambda r: r["status"] == "cancelled" and r["button"] == "Cancelled")
    env.assert_matches_api(a, done)
    assert done["counters"]["synced"] > 0
    # The button kept its box through every label: no layout shift.
    assert before["buttonWidth"] == stopping["buttonWidth"] == done["buttonWidth"], (before, stopping, done)
    assert before["buttonHeight"] == stopping["buttonHeight"] == done["buttonHeight"]
    env.ended["one"].add(a)
    assert "has ended: cancelled" in env.conflict()["text"]


def test_a_second_window_shows_the_same_state_without_reloading(env):
    a = env.jobs["a"]
    env.d.switch_to.new_window("window")
    env.windows["two"] = env.d.current_window_handle
    env.sign_in("two", "tok-acme")
    row = env.wait_row(a, "shown cancelled", lambda r: r["status"] == "cancelled")
    env.assert_matches_api(a, row)
    env.js("window.sameDocument = true")

    env.window("one")
    env.start_from_form("inbox-b", ENDLESS)
    b = env.jobs["b"] = env.started_id()

    env.window("two")
    first = env.wait_row(b, "running in the second window", lambda r: r["status"] == "running" and r["counters"].get("synced", 0) > 0)
    env.wait_row(b, "progressing in the second window", lambda r: r["counters"]["synced"] > first["counters"]["synced"])
    env.confirm_stop_with_keyboard(env.stop_button(b))
    done = env.wait_row(b, "Cancelled in the second window", lambda r: r["button"] == "Cancelled")
    env.assert_matches_api(b, done)
    assert env.js("return window.sameDocument === true"), "the second window reloaded"

    env.window("one")
    env.assert_matches_api(b, env.wait_row(b, "Cancelled in the first window", lambda r: r["button"] == "Cancelled"))
    env.ended["one"].add(b)
    env.ended["two"].add(b)


def test_cut_events_stream_falls_back_to_polling_then_resumes_without_repeats(env):
    env.allowed = [r"/v1/events - Failed to load resource: the server responded with a status of 503"]
    env.window("one")
    c = env.jobs["c"] = env.p.enqueue({"type": "demo.sync", "key": "inbox-c", "params": ENDLESS})["id"]
    live = env.wait_row(c, "running, through the stream", lambda r: r["status"] == "running" and r["counters"].get("synced", 0) > 0)
    assert env.stream_state() == "live"
    before = env.snapshot()

    env.proxy.cut()
    for name in ("one", "two"):
        env.window(name)
        env.wait_stream(name, "down")
    wait_for(lambda: env.proxy.refused >= 1, "the page to try the stream again (and be refused)")

    # Updates keep coming, by polling alone: the stream is refused meanwhile.
    env.window("one")
    polled = env.wait_row(c, "new versions by polling", lambda r: r["version"] >= live["version"] + 2)
    # A job that starts and ends during the outage is seen ending, by polling.
    d = env.jobs["d"] = env.p.enqueue({"type": "demo.sync", "key": "inbox-d", "params": SHORT})["id"]
    wait_for(lambda: env.p.job(d)["status"] == "completed", "job d to complete")
    for name in ("one", "two"):
        env.window(name)
        env.wait_row(d, "completed, by polling", lambda r: r["status"] == "completed")
        env.ended[name].add(d)
        assert env.stream_state() == "down"
    env.window("one")
    assert env.snapshot()["streamOpens"] == before["streamOpens"]
    assert env.snapshot()["polls"] > before["polls"]
    during = env.snapshot()

    env.proxy.restore()
    for name in ("one", "two"):
        env.window(name)
        env.wait_stream(name, "live")
        env.wait_caught_up()
    env.window("one")
    after = env.snapshot()
    assert after["streamOpens"] == before["streamOpens"] + 1
    # The stream resumed from its Last-Event-ID, so it re-sent the changes polling had
    # already applied: the page dropped them instead of showing them again.
    assert after["ignoredFromStream"] > during["ignoredFromStream"], (during, after)
    env.wait_row(c, "newer than what polling showed, through the stream", lambda r: r["version"] > polled["version"])
    for job_id in (c, d):
        # Read together (c is still running): the versions applied, and the row's redraws.
        versions, renders = env.js("const q = window.quellDashboard; return [q.versions(arguments[0]), q.renders(arguments[0])]", job_id)
        assert versions == sorted(set(versions)), f"job {job_id} applied a version twice or out of order: {versions}"
        # A row redraws only for a version it applies, never for a copy.
        assert 0 < renders <= len(versions), (job_id, renders, versions)
    assert env.p.call("POST", f"/v1/jobs/{c}/cancel?wait=30", body={})[1]["status"] == "cancelled"
    for name in ("one", "two"):
        env.window(name)
        env.assert_matches_api(c, env.wait_row(c, "Cancelled", lambda r: r["button"] == "Cancelled"))
        env.ended[name].add(c)


def test_each_job_end_refreshes_the_list_exactly_once(env):
    short = [env.p.enqueue({"type": "demo.sync", "key": f"inbox-e{i}", "params": SHORT})["id"] for i in range(3)]
    wait_for(lambda: all(env.p.job(j)["status"] == "completed" for j in short), "the short syncs to complete")
    for name in ("one", "two"):
        env.window(name)
        for j in short:
            env.wait_row(j, "completed", lambda r: r["status"] == "completed")
            env.ended[name].add(j)
        # Every path has delivered every end: the stream is caught up, and one more poll
        # brings the same versions again. Each end still counts once.
        env.wait_caught_up()
        assert env.js("return window.quellDashboard.pollNow()") is True
        snap = env.snapshot()
        assert snap["refreshCount"] == len(env.ended[name]), (name, snap, sorted(env.ended[name]))
        assert env.js("return document.body.dataset.refreshCount") == str(len(env.ended[name]))


def test_operators_see_every_tenant_and_the_workers(env):
    env.window("two")
    env.d.find_element(By.ID, "sign-out").send_keys(Keys.ENTER)
    env.sign_in("two", ADMIN)
    worker_pid = env.p.children["worker"].pid
    wait_for(lambda: any(f":{worker_pid}:" in r.text and "/ 4" in r.text
                         for r in env.d.find_elements(By.CSS_SELECTOR, "#workers tbody tr")), "the worker in the table")
    # Another tenant's sync: the admin sees it (and its end refreshes the list once);
    # acme's window never does.
    g = env.p.enqueue({"type": "demo.sync", "key": "inbox-g", "params": SHORT}, token="tok-beta")["id"]
    env.assert_matches_api(g, env.wait_row(g, "beta's sync, completed", lambda r: r["status"] == "completed"), token=ADMIN)
    assert "tenant beta" in env.row(g)["meta"]
    env.ended["two"].add(g)
    counts = env.p.call("GET", "/v1/stats", token=ADMIN)[1]["counts"]
    wait_for(lambda: all(env.d.find_element(By.CSS_SELECTOR, f'#counts [data-status="{k}"] dd').text == str(n)
                         for k, n in counts.items()), f"the counts per status of every tenant: {counts}")
    env.d.find_element(By.ID, "cleanup").send_keys(Keys.ENTER)
    wait_for(lambda: env.d.find_element(By.ID, "cleanup-result").text == "Nothing was stuck.", "the cleanup result")
    # An acme sync after beta's: once acme's window shows it, it has had every event
    # before it that it may see — and beta's were not among them.
    h = env.jobs["h"] = env.p.enqueue({"type": "demo.sync", "key": "inbox-h", "params": SHORT})["id"]
    for name in ("two", "one"):
        env.window(name)
        env.wait_row(h, "completed", lambda r: r["status"] == "completed")
        env.ended[name].add(h)
        env.wait_caught_up()
        assert env.snapshot()["refreshCount"] == len(env.ended[name]), name
    assert env.row(g) is None, "acme's window shows beta's job"
    assert len(env.ended["two"]) == 2


def test_filters_paging_and_a_queued_stop(env):
    env.window("two")  # the admin: beta's parked jobs stay out of acme's window
    # Jobs on a queue no worker takes stay queued: more than one page of them.
    parked = [env.p.enqueue({"type": "demo.noop", "queue": "parked"}, token="tok-beta")["id"] for _ in range(52)]
    # Paused, then resumed: shown as the API says, with the resumes count.
    pz = parked[-2]
    env.wait_row(pz, "queued", lambda r: r["status"] == "queued")
    assert env.p.call("POST", f"/v1/jobs/{pz}/pause", token=ADMIN, body={})[1]["status"] == "paused"
    env.wait_row(pz, "paused, and stoppable", lambda r: r["status"] == "paused" and r["button"] == "Stop")
    assert env.p.call("POST", f"/v1/jobs/{pz}/resume", token=ADMIN, body={})[1]["status"] == "queued"
    env.wait_row(pz, "queued again, resumed once", lambda r: r["status"] == "queued" and "resumed 1×" in r["meta"])
    Select(env.d.find_element(By.ID, "filter-status")).select_by_value("queued")
    env.d.find_element(By.ID, "filter-key").clear()
    env.d.find_element(By.ID, "filter-key").send_keys(Keys.ENTER)
    shown = lambda: env.js("return [...document.querySelectorAll('li.job')].map(li => li.dataset.jobId)")
    wait_for(lambda: len(shown()) == 50 and set(shown()) <= set(parked), "one page of queued jobs")
    more = env.d.find_element(By.ID, "more")
    assert more.is_displayed()
    more.send_keys(Keys.ENTER)
    wait_for(lambda: sorted(shown()) == sorted(parked), "the next page too")
    wait_for(lambda: not more.is_displayed(), "no more pages")
    # Stopping a queued job: it is cancelled at once.
    first = parked[-1]
    env.confirm_stop_with_keyboard(env.stop_button(first))
    assert env.p.job(first, token=ADMIN)["status"] == "cancelled"
    # The view is of queued jobs: the cancelled one leaves it.
    wait_for(lambda: first not in shown(), "the cancelled job to leave the queued view")
    env.ended["two"].add(first)
    # By key: the one job holding it.
    Select(env.d.find_element(By.ID, "filter-status")).select_by_value("")
    env.d.find_element(By.ID, "filter-key").send_keys("inbox-h", Keys.ENTER)
    wait_for(lambda: shown() == [env.jobs["h"]], "the job of key inbox-h alone")
    env.d.find_element(By.ID, "filter-key").clear()
    env.d.find_element(By.ID, "filter-key").send_keys(Keys.ENTER)
    wait_for(lambda: len(shown()) == 50, "the first page of every job")
    env.wait_caught_up()
    assert env.snapshot()["refreshCount"] == len(env.ended["two"])


def stuck_job(env):
    """A running sync with a short fixed timeout whose worker is frozen (SIGSTOP) before
    the deadline; returns its id once the deadline has passed. If the worker reached the
    deadline first (it times its own jobs out), it tries again with a longer timeout."""
    for timeout in (5, 20, 80):
        job = env.p.enqueue({"type": "demo.sync", "key": "inbox-stuck", "params": ENDLESS, "timeout": timeout})
        wait_for(lambda: env.p.job(job["id"])["status"] != "queued", "the stuck sync to start")
        env.p.freeze_worker()
        current = env.p.job(job["id"])
        if current["status"] == "running":
            deadline = current["deadline_at"]
            wait_for(lambda: time.time() > iso_seconds(deadline), "the deadline to pass", timeout=timeout + 30)
            return job["id"]
        env.p.thaw_worker()
        wait_for(lambda: env.p.job(job["id"])["status"] in ("timed_out", "cancelled"), "the early timeout to land")
        env.ended["one"].add(job["id"])
    raise AssertionError("the worker timed out every try before it could be frozen")


def iso_seconds(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


def test_screenshots_at_1280_and_360(env):
    env.allowed = [r"/v1/jobs - Failed to load resource: the server responded with a status of 409"]
    env.window("one")
    env.start_from_form("inbox-f", ENDLESS)
    f = env.started_id()
    env.wait_row(f, "running", lambda r: r["status"] == "running" and r["counters"].get("synced", 0) > 0)
    env.start_from_form("inbox-f", ENDLESS)
    wait_for(lambda: (env.conflict() or {}).get("jobId") == f, "the conflict message")
    wait_for(lambda: any(" 1 / 4 " in f" {r.text} " for r in env.d.find_elements(By.CSS_SELECTOR, "#workers tbody tr")),
             "the worker's busy slot in the table")
    os.makedirs(SCREENSHOTS, exist_ok=True)
    for width in (1280, 360):
        env.d.set_window_size(width, 900)
        wait_for(lambda: env.js("return window.innerWidth") == width, f"a {width} px viewport")
        # Readable at this width: nothing sticks out sideways.
        assert env.js("return document.documentElement.scrollWidth") <= width, f"horizontal scroll at {width} px"
        # The whole page at 1280 px; at 360 px its first screens (the whole would be a strip).
        save_page(env.d, os.path.join(SCREENSHOTS, f"dashboard-{width}.png"), max_height=None if width > 400 else 1800)
    env.d.set_window_size(1280, 900)
    assert env.p.call("POST", f"/v1/jobs/{f}/cancel?wait=30", body={})[1]["status"] == "cancelled"


def save_page(driver, path, max_height=None):
    width, height = driver.execute_script("return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": min(height, max_height or height), "scale": 1}})
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))


def test_no_sign_in_with_no_auth(env):
    port = env.p.start_open_api()
    env.d.switch_to.new_window("window")
    env.windows["open"] = env.d.current_window_handle
    env.d.get(f"http://127.0.0.1:{port}/")
    env.wait_stream("open", "live")
    assert not env.d.find_element(By.ID, "signin").is_displayed()
    assert not env.d.find_element(By.ID, "sign-out").is_displayed()
    env.start_from_form("inbox-open", SHORT, mode="incremental")
    job_id = env.started_id()
    row = env.wait_row(job_id, "completed", lambda r: r["status"] == "completed")
    assert "tenant default" in row["meta"]
    env.assert_matches_api(job_id, row, token=ADMIN)
    assert env.p.job(job_id, token=ADMIN)["params"]["mode"] == "incremental"
    assert env.snapshot()["refreshCount"] == 1
