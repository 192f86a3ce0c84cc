"""The systems bench/peers runs, each in its documented fast configuration
with per-job logging off, behind one interface:

    begin() / end()           what runs beside the workers (Quell: `quell api`
                              and a /v1/stats watcher every 500 ms)
    start_workers()           the worker process(es)
    enqueue(jobs, clients)    jobs one by one through the system's own client
                              path, from `clients` concurrent producers;
                              returns (first send, last reply) on CLOCK_MONOTONIC
    probe()                   one job, for "the worker is taking jobs"
    done()                    jobs completed so far (a condition, never a sleep)
"""
import http.client
import json
import os
import signal
import socket
import threading

from common import BenchError, log_text, wait_for


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_producers(ctx, name, argvs, env=None, timeout=600):
    """Starts producers that print "ready", releases them together with a
    line on stdin, waits for all; returns (min first_send, max last_reply)."""
    procs = [ctx.procs.start(f"{name}-producer", argv, env=env, stdin=True) for argv in argvs]
    for p in procs:
        wait_for(f"{name} producer ready", lambda p=p: "ready" in log_text(p), 120, 0.01, proc=p)
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    return collect(ctx, procs, name, timeout)


def collect(ctx, procs, name, timeout):
    firsts, lasts = [], []
    for p in procs:
        try:
            rc = p.wait(timeout)
        except Exception as e:
            raise BenchError(f"{name} producer did not finish within {timeout} s") from e
        text = log_text(p)
        ctx.procs.forget(p)
        if rc != 0:
            raise BenchError(f"{name} producer exited {rc}:\n{text[-3000:]}")
        values = dict(line.split(" ", 1) for line in text.splitlines() if line.startswith(("first_send ", "last_reply ")))
        if "first_send" not in values:
            raise BenchError(f"{name} producer printed no times:\n{text[-3000:]}")
        firsts.append(float(values["first_send"]))
        lasts.append(float(values["last_reply"]))
    return min(firsts), max(lasts)


class Context:
    """Paths, the Redis URL, the process table and the driver's Redis probe."""

    def __init__(self, procs, probe, redis_url, quell, quell_bench, python, tmp):
        self.procs = procs
        self.probe = probe
        self.redis_url = redis_url
        self.quell = quell
        self.quell_bench = quell_bench
        self.python = python
        self.bin = os.path.dirname(python)
        self.tmp = tmp


class System:
    label = "?"
    counts_itself = True  # its no-op INCRs bench:done (taken out of commands per job)
    batch_call = None     # name of its batch enqueue, if it has one

    def __init__(self, ctx):
        self.ctx = ctx
        self.workers = []

    def begin(self):
        pass

    def end(self):
        pass

    def start_workers(self):
        argv, env = self.worker_command()
        self.workers = [self.ctx.procs.start(self.key, argv, env=env)]

    def stop_workers(self, sig=signal.SIGTERM):
        for w in self.workers:
            self.ctx.procs.stop(w, sig, wait=10)
        self.workers = []

    def worker_pids(self):
        return [w.pid for w in self.workers]

    def check_workers(self):
        for w in self.workers:
            if w.poll() is not None:
                raise BenchError(f"{self.label}: worker exited ({w.returncode}):\n{log_text(w)[-3000:]}")

    def done(self):
        return self.ctx.probe.counter()

    def reset_done(self):
        self.ctx.probe.r.delete("bench:done")

    def enqueue(self, jobs, clients=4, batch=1):
        per = jobs // clients
        argvs = [self.producer_command(per, batch) for _ in range(clients)]
        return run_producers(self.ctx, self.key, argvs)

    def producer_command(self, jobs, batch):
        return [self.ctx.python, "produce.py", self.key.split("-")[0], str(jobs), str(batch)]


class Celery(System):
    batch_call = "group(…).apply_async(), 100 per group"

    def __init__(self, ctx, pool):
        super().__init__(ctx)
        self.pool = pool
        self.key = f"celery-{pool}"
        self.label = {"solo": "Celery solo", "threads": "Celery threads -c 2", "prefork": "Celery prefork -c 1"}[pool]

    def worker_command(self):
        argv = [f"{self.ctx.bin}/celery", "-A", "celery_app", "worker", "-P", self.pool, "-Q", "celery",
                "-l", "warning", "--without-mingle", "--without-gossip", "--without-heartbeat"]
        if self.pool != "solo":
            argv += ["-c", "1" if self.pool == "prefork" else "2"]
        return argv, None

    def probe(self):
        from celery_app import noop
        noop.delay()


class RQ(System):
    key = "rq"
    label = "RQ SimpleWorker"
    batch_call = "Queue.enqueue_many, 100 per call"

    def __init__(self, ctx, worker_class="rq.worker.SimpleWorker"):
        super().__init__(ctx)
        self.worker_class = worker_class

    def worker_command(self):
        return [f"{self.ctx.bin}/rq", "worker", "-w", self.worker_class, "--url", self.ctx.redis_url,
                "--logging_level", "WARNING", "default"], None

    def probe(self):
        from rq import Queue
        import rq_tasks
        Queue("default", connection=self.ctx.probe.r).enqueue(rq_tasks.noop)


class Dramatiq(System):
    key = "dramatiq"
    label = "Dramatiq 1 process × 2 threads"

    def worker_command(self):
        return [f"{self.ctx.bin}/dramatiq", "dramatiq_app", "--processes", "1", "--threads", "2"], None

    def probe(self):
        from dramatiq_app import noop
        noop.send()


class Sidekiq(System):
    key = "sidekiq"
    label = "Sidekiq -c 2"
    batch_call = "Sidekiq::Client.push_bulk, 100 per call"

    def worker_command(self):
        return ["sidekiq", "-c", "2", "-r", "./sidekiq_app.rb", "-q", "default"], None

    def producer_command(self, jobs, batch):
        return ["ruby", "sidekiq_produce.rb", str(jobs), str(batch)]

    def probe(self):
        run_producers(self.ctx, "sidekiq-probe", [self.producer_command(1, 1)])


class Quell(System):
    """`quell api` (token auth, reaper in-process) with a /v1/stats watcher
    every 500 ms; `quell worker` processes; jobs POSTed one per request from
    quell-bench's keep-alive clients (blocking sockets, a thread each)."""

    counts_itself = False
    batch_call = "JobStore.enqueue(batch:) (library), 100 per call"
    token = "bench"

    def __init__(self, ctx, concurrency, processes=1, python_client=False, binary=None, tag=None):
        super().__init__(ctx)
        self.concurrency = concurrency
        self.processes = processes
        self.python_client = python_client
        # Another build of quell (an A/B through this path: --quell-b), told apart by tag.
        self.binary = binary or ctx.quell
        self.key = f"quell-c{concurrency}" + (f"x{processes}" if processes > 1 else "") + (f"-{tag}" if tag else "")
        self.label = f"Quell c{concurrency}" + (f" × {processes} processes" if processes > 1 else "") + (f" ({tag})" if tag else "")
        self.api = None
        self.http = None
        self.watching = None
        self.offset = 0

    # the API and its watcher
    def begin(self):
        self.port = free_port()
        self.api = self.ctx.procs.start("quell-api", [self.binary, "api", "--port", str(self.port)],
                                        env=self.environment())
        wait_for("quell api listening", lambda: "listening on" in log_text(self.api), 60, 0.01, proc=self.api)
        self.http = http.client.HTTPConnection("127.0.0.1", self.port)
        self.watching = threading.Event()
        self.watcher = threading.Thread(target=self._watch, daemon=True)
        self.watcher.start()
        self.offset = 0

    def _watch(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port)
        while not self.watching.wait(0.5):
            self.request("GET", "/v1/stats", connection=connection)

    def end(self):
        if self.watching is not None:
            self.watching.set()
            self.watcher.join()
        self.stop_workers()
        if self.api is not None:
            self.ctx.procs.stop(self.api)
            self.api = None

    def environment(self):
        return {"QUELL_REDIS_URL": self.ctx.redis_url, "QUELL_PREFIX": "bench", "QUELL_TOKENS": f"{self.token}=acme",
                "QUELL_LOG_LEVEL": "warning"}

    def request(self, method, path, body=None, connection=None):
        connection = connection or self.http
        headers = {"Authorization": f"Bearer {self.token}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(body)
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        data = response.read()
        if response.status >= 300:
            raise BenchError(f"{method} {path} answered {response.status}: {data[:500]!r}")
        return json.loads(data)

    # workers and jobs
    def worker_command(self):
        return [self.binary, "worker", "--concurrency", str(self.concurrency)], self.environment()

    def start_workers(self):
        argv, env = self.worker_command()
        self.workers = [self.ctx.procs.start(f"{self.key}-worker", argv, env=env) for _ in range(self.processes)]
        wait_for("quell workers registered",
                 lambda: len(self.request("GET", "/v1/stats")["workers"]) >= self.processes, 60, 0.005)

    def done(self):
        return self.request("GET", "/v1/stats")["counts"]["completed"] - self.offset

    def reset_done(self):
        self.offset = self.request("GET", "/v1/stats")["counts"]["completed"]

    def probe(self):
        self.request("POST", "/v1/jobs", {"type": "demo.noop"})

    def enqueue(self, jobs, clients=4, batch=1):
        if self.python_client:
            argvs = [[self.ctx.python, "produce.py", "quell", str(jobs // clients), "1", "--port", str(self.port),
                      "--token", self.token] for _ in range(clients)]
            return run_producers(self.ctx, "quell-python", argvs)
        p = self.ctx.procs.start("quell-http-enqueue", [self.ctx.quell_bench, "http-enqueue", "--port", str(self.port),
                                                         "--token", self.token, "--jobs", str(jobs),
                                                         "--clients", str(clients)])
        first, last = collect(self.ctx, [p], "quell-bench http-enqueue", 600)
        self.client_cpu = float(dict(l.split(" ", 1) for l in log_text(p).splitlines() if " " in l).get("cpu_s", 0))
        return first, last

    def api_pid(self):
        return self.api.pid
