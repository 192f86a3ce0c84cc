"""What the dashboard's browser tests run against: a private redis-server, `quell api`
and `quell worker` (the debug build scripts/test made), an HTTP proxy in front of the
API whose events stream the tests can cut, and headless Chromium driven by Selenium.

Everything listens on 127.0.0.1 on free ports and is stopped at the end."""

import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOKENS = {"tok-acme": "acme", "tok-beta": "beta"}
ADMIN = "tok-admin"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, what, timeout=60, interval=0.05):
    """Polls `condition` until it returns something truthy (and returns that). The timeout
    only bounds a failure; the tests never depend on how long anything takes."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as e:  # a condition may fail while the state is not there yet
            last_error = e
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}" + (f" (last error: {last_error!r})" if last_error else ""))


class Processes:
    """redis-server, `quell api` and `quell worker`, with their logs in a temp dir."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="quell-browser.")
        self.quell = os.environ.get("QUELL_BIN", os.path.join(ROOT, ".build", "debug", "quell"))
        if not os.access(self.quell, os.X_OK):
            raise RuntimeError(f"no quell binary at {self.quell}: run `swift build` first (scripts/test does)")
        self.children = {}
        self.redis_port = free_port()
        self.api_port = free_port()
        self.prefix = f"browser{os.getpid()}"
        self.env = dict(os.environ)
        self.env.update({
            "QUELL_REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "QUELL_PREFIX": self.prefix,
            "QUELL_TOKENS": ",".join(f"{t}={n}" for t, n in TOKENS.items()),
            "QUELL_ADMIN_TOKEN": ADMIN,
            # The tests freeze the worker (SIGSTOP) to hold a job in `cancelling` or
            # past its deadline: nobody may judge it stale meanwhile, however slow the machine.
            "QUELL_STALE_SECONDS": "300",
            "QUELL_HEARTBEAT_SECONDS": "1",
            "QUELL_LOG_LEVEL": "warning",
        })

    def start(self):
        self._spawn("redis", ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                              "--dir", self.dir, "--save", "", "--appendonly", "no"])
        wait_for(lambda: self.redis("PING") == "PONG", "redis-server to answer")
        self._spawn("api", [self.quell, "api", "--port", str(self.api_port)])
        wait_for(lambda: self.call("GET", "/healthz", token=None)[0] == 200, "quell api to answer /healthz")
        self.start_worker()

    def start_open_api(self):
        """A second `quell api`, with `--no-auth` (one tenant, `default`), on the same Redis."""
        port = free_port()
        self._spawn("open-api", [self.quell, "api", "--port", str(port), "--no-auth"])
        wait_for(lambda: self.call("GET", "/healthz", token=None, port=port)[0] == 200, "the --no-auth api to answer")
        return port

    def start_worker(self):
        self._spawn("worker", [self.quell, "worker", "--concurrency", "4"])
        pid = self.children["worker"].pid
        wait_for(lambda: any(f":{pid}:" in w["id"] for w in self.call("GET", "/v1/stats")[1]["workers"]),
                 "the worker to register")

    def _spawn(self, name, argv):
        log = open(os.path.join(self.dir, name + ".log"), "wb")
        self.children[name] = subprocess.Popen(argv, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                               stdin=subprocess.DEVNULL)

    def freeze_worker(self):
        os.kill(self.children["worker"].pid, signal.SIGSTOP)

    def thaw_worker(self):
        os.kill(self.children["worker"].pid, signal.SIGCONT)

    def redis(self, *args):
        out = subprocess.run(["redis-cli", "-p", str(self.redis_port), "--raw", *args],
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip()

    def last_event_id(self):
        """The id of the newest entry of the events stream (read from Redis itself)."""
        out = self.redis("XREVRANGE", "{%s}:events" % self.prefix, "+", "-", "COUNT", "1")
        return out.splitlines()[0] if out else None

    def call(self, method, path, token="tok-acme", body=None, port=None):
        """One request straight to the API (not through the proxy): (status, JSON or None)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port or self.api_port}{path}", data=data, method=method)
        if token:
            request.add_header("Authorization", "Bearer " + token)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                status, text = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read()
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            return status, None

    def job(self, job_id, token="tok-acme"):
        status, job = self.call("GET", "/v1/jobs/" + job_id, token=token)
        assert status == 200, (status, job)
        return job

    def enqueue(self, body, token="tok-acme"):
        status, job = self.call("POST", "/v1/jobs", token=token, body=body)
        assert status == 202, (status, job)
        return job

    def logs(self):
        out = []
        for name in self.children:
            path = os.path.join(self.dir, name + ".log")
            with open(path, "rb") as f:
                text = f.read().decode(errors="replace")
            out.append(f"--- {name}.log (last 40 lines)\n" + "\n".join(text.splitlines()[-40:]))
        return "\n".join(out)

    def stop(self):
        for name in reversed(list(self.children)):
            p = self.children[name]
            if p.poll() is None:
                try:
                    os.kill(p.pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
                p.terminate()
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        subprocess.run(["rm", "-rf", self.dir])


class EventsProxy:
    """A small HTTP proxy in front of the API: one request per connection (it asks the API
    for `Connection: close`, so the browser opens a new connection each time and every
    request is seen). `cut()` closes every open `/v1/events` response and answers new ones
    with 503 until `restore()`: the events stream is down while the rest of the API works,
    as when a load balancer drops long-lived connections."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.blocked = False
        self.streams = set()
        self.refused = 0
        self.opened = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path="/"):
        return f"http://127.0.0.1:{self.port}{path}"

    def cut(self):
        with self.lock:
            self.blocked = True
            streams = list(self.streams)
        for pair in streams:
            for s in pair:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def restore(self):
        with self.lock:
            self.blocked = False

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        upstream = None
        pair = None
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = client.recv(65536)
                if not chunk:
                    return
                data += chunk
                if len(data) > 1 << 20:
                    return
            head, rest = data.split(b"\r\n\r\n", 1)
            lines = head.split(b"\r\n")
            method, target, version = lines[0].split(b" ", 2)
            is_events = target.split(b"?")[0] == b"/v1/events"
            headers = []
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                lname = name.strip().lower()
                if lname in (b"connection", b"keep-alive"):
                    continue
                if lname == b"content-length":
                    length = int(value.strip())
                headers.append(line)
            while len(rest) < length:
                chunk = client.recv(65536)
                if not chunk:
                    return
                rest += chunk
            with self.lock:
                refuse = is_events and self.blocked
                if refuse:
                    self.refused += 1
            if refuse:
                body = b'{"error":{"code":"unavailable","message":"events stream cut by the test proxy"}}'
                client.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                               b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            upstream.sendall(b"\r\n".join([lines[0]] + headers + [b"Connection: close", b"", b""]) + rest)
            if is_events:
                pair = (client, upstream)
                with self.lock:
                    self.streams.add(pair)
                    self.opened += 1
                # A client that goes away ends the upstream stream too.
                threading.Thread(target=self._watch_client, args=(client, upstream), daemon=True).start()
            while True:
                chunk = upstream.recv(65536)
                if not chunk:
                    break
                client.sendall(chunk)
        except OSError:
            pass
        finally:
            if pair:
                with self.lock:
                    self.streams.discard(pair)
            for s in (client, upstream):
                if s is not None:
                    try:
                        s.close()
                    except OSError:
                        pass

    @staticmethod
    def _watch_client(client, upstream):
        try:
            while client.recv(4096):
                pass
        except OSError:
            pass
        try:
            upstream.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def chromium():
    """Headless Debian Chromium with its chromedriver, logging the console."""
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("QUELL_CHROMIUM", "/usr/bin/chromium")
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900", "--hide-scrollbars", "--lang=en-US", "--no-first-run", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps"]:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(os.environ.get("QUELL_CHROMEDRIVER", "/usr/bin/chromedriver"))
    return webdriver.Chrome(service=service, options=options)
