"""bench/peers driver: Quell side by side with Celery, RQ, Dramatiq and Sidekiq
on one private Redis. bench/peers/run sets everything up and calls this;
see BENCHMARKS.md for what each table means.

Every wait is for a condition (a count reached, a status seen, a process
gone), bounded so that a system that does not complete fails the run
(exit 1) instead of hanging it."""
import argparse
import datetime
import http.client
import os
import random
import signal
import statistics
import sys
import threading
import time

from common import (BenchError, Procs, RedisProbe, alive, cpu_s, diff, fmt, fmt_mmm, log_text, mmm, pct,
                    rss_kib, table, wait_for)
from systems import RQ, Celery, Context, Dramatiq, Quell, Sidekiq

MODES = ("enqueue-then-drain", "enqueue-while-draining")


def say(*lines):
    print(*lines, sep="\n", flush=True)


def ratio_cell(quell_values, peer_values):
    """Quell ÷ peer per interleaved repetition: median (min–max)."""
    ratios = [q / p for q, p in zip(quell_values, peer_values) if p > 0]
    if not ratios:
        return "—"
    lo, med, hi = mmm(ratios)
    return f"{med:.2f}× ({lo:.2f}–{hi:.2f})"


class Bench:
    def __init__(self, ctx, cfg):
        self.ctx = ctx
        self.cfg = cfg
        self.probe = ctx.probe

    def fresh(self):
        self.probe.flush()

    # 1 + 3 + 6: throughput, Redis cost per phase, RSS ---------------------

    def throughput_systems(self):
        c = self.ctx
        systems = [Quell(c, 4), Quell(c, 8), Quell(c, 64), Celery(c, "solo"), Celery(c, "threads"), RQ(c),
                   Dramatiq(c), Sidekiq(c)]
        if self.cfg.quell_b:
            systems[3:3] = [Quell(c, n, binary=self.cfg.quell_b, tag="B") for n in (4, 8, 64)]
        if self.cfg.systems:
            systems = [s for s in systems if s.key in self.cfg.systems]
        return systems

    def wait_done(self, system, target, sample=None):
        """Polls system.done() until target; fails when it stalls for 60 s.
        Returns (time of first observed completion, count then, time target seen)."""
        first = None
        last_progress, last_count = time.monotonic(), -1
        interval = 0.01 if isinstance(system, Quell) else 0.002
        polls = 0
        while True:
            n = system.done()
            now = time.monotonic()
            if first is None and n > 0:
                first = (now, n)
            if n >= target:
                return first[0], first[1], now
            if n != last_count:
                last_progress, last_count = now, n
            elif now - last_progress > 60:
                raise BenchError(f"{system.label}: stuck at {n} of {target} completed for 60 s")
            system.check_workers()
            polls += 1
            if sample is not None and polls % 10 == 0:
                sample()
            time.sleep(interval)

    def run_throughput(self, system, mode, jobs):
        self.fresh()
        system.begin()
        try:
            out = {}
            peak = [0]

            def sample():
                peak[0] = max(peak[0], sum(rss_kib(p) for p in system.worker_pids()))

            if mode == "enqueue-then-drain":
                s0 = self.probe.snapshot()
                first_send, last_reply = system.enqueue(jobs, clients=4)
                s1 = self.probe.snapshot()
                t_spawn = time.monotonic()
                system.start_workers()
                t_first, n_first, t_end = self.wait_done(system, jobs, sample)
                s2 = self.probe.snapshot()
                incrs = jobs if system.counts_itself else 0
                out["enqueue_rate"] = jobs / (last_reply - first_send)
                # Steady state (first to last completion: no boot) and the "from worker start".
                out["rate"] = (jobs - n_first) / (t_end - t_first) if t_end > t_first else float("nan")
                out["rate_from_spawn"] = jobs / (t_end - t_spawn)
                out["enqueue_cost"] = diff(s0, s1, jobs)
                out["drain_cost"] = diff(s1, s2, jobs, incrs)
                out["whole_cost"] = diff(s0, s2, jobs, incrs)
            else:
                system.start_workers()
                system.probe()
                wait_for(f"{system.label}: first job done", lambda: system.done() >= 1, 120, 0.005)
                system.reset_done()
                time.sleep(0.5)
                out["rss_idle"] = sum(rss_kib(p) for p in system.worker_pids())
                s0 = self.probe.snapshot()
                times = {}

                def produce():
                    try:
                        times["span"] = system.enqueue(jobs, clients=4)
                    except Exception as e:  # re-raised in the main thread
                        times["error"] = e

                producer = threading.Thread(target=produce)
                producer.start()
                try:
                    _, _, t_end = self.wait_done(system, jobs, sample)
                finally:
                    producer.join()
                if "error" in times:
                    raise times["error"]
                s1 = self.probe.snapshot()
                first_send, _ = times["span"]
                out["rate"] = jobs / (t_end - first_send)
                out["whole_cost"] = diff(s0, s1, jobs, jobs if system.counts_itself else 0)
            out["rss_peak"] = peak[0]
            out["worker_cpu_us"] = sum(cpu_s(p) for p in system.worker_pids()) / jobs * 1e6
            if isinstance(system, Quell):
                out["api_cpu_us"] = cpu_s(system.api_pid()) / jobs * 1e6
            return out
        finally:
            system.end()
            # Nothing is measured after the last completion: no graceful shutdown to wait for.
            system.stop_workers(signal.SIGKILL)

    def jobs_for(self, system):
        """Quell and Sidekiq drain thousands per second; the Python peers hundreds: fewer jobs keep the run short."""
        return self.cfg.jobs if isinstance(system, (Quell, Sidekiq)) else self.cfg.jobs_slow

    def throughput(self):
        reps = self.cfg.reps
        systems = self.throughput_systems()
        results = {(s.key, m): [] for s in systems for m in MODES}
        for rep in range(reps):
            for mode in MODES:
                for s in systems:
                    t0 = time.monotonic()
                    r = self.run_throughput(s, mode, self.jobs_for(s))
                    results[(s.key, mode)].append(r)
                    say(f"  rep {rep + 1}/{reps} {mode:22} {s.label:32} {r['rate']:9.0f} jobs/s"
                        + (f" ({r['rate_from_spawn']:.0f} from spawn; enqueue {r['enqueue_rate']:.0f}/s,"
                           f" Redis {r['whole_cost']['cpu_us']:.1f} µs/job)" if "enqueue_rate" in r else "")
                        + f"  [{time.monotonic() - t0:.1f} s]")
        self.results = results
        self.systems = systems
        quells = [s for s in systems if isinstance(s, Quell)]
        peers = [s for s in systems if not isinstance(s, Quell)]
        views = [("enqueue-then-drain", "rate", "drain rate, first to last completion (no worker boot)"),
                 ("enqueue-then-drain", "rate_from_spawn", "from worker process start to last completion (boot included)"),
                 ("enqueue-while-draining", "rate", "first enqueue to last completion, worker already up")]
        for mode, field, what in views:
            say("", f"### 1. Throughput, {mode}: {what} (jobs/s, min / median / max of {reps})", "")
            rows = [[s.label, fmt(self.jobs_for(s)), fmt_mmm([r[field] for r in results[(s.key, mode)]])] for s in systems]
            say(table(["system", "jobs", "jobs/s"], rows))
            say("", "Quell ÷ peer (median of the per-repetition ratios, min–max):", "")
            rows = []
            for q in quells:
                qv = [r[field] for r in results[(q.key, mode)]]
                rows.append([q.label] + [ratio_cell(qv, [r[field] for r in results[(p.key, mode)]]) for p in peers])
            say(table(["", *[p.label for p in peers]], rows))

        mode = "enqueue-then-drain"
        say("", f"### 3. Redis cost per job by phase ({mode}; medians of {reps})", "",
            "Enqueue: 4 concurrent producers one job per call (Quell: POST /v1/jobs, api up, /v1/stats watched);"
            " drain: worker start to last completion. Commands per job count the commands scripts run"
            " (Redis 7 counts them), without the driver's own and the peers' bench counter INCR.", "")
        rows = []
        for s in systems:
            rs = results[(s.key, mode)]
            med = lambda f: statistics.median(f(r) for r in rs)
            whole = med(lambda r: r["whole_cost"]["cpu_us"])
            rows.append([s.label, fmt(med(lambda r: r["enqueue_rate"])),
                         fmt(med(lambda r: r["enqueue_cost"]["cpu_us"]), 1), fmt(med(lambda r: r["drain_cost"]["cpu_us"]), 1),
                         fmt(whole, 1), fmt(1e6 / whole if whole > 0 else None),
                         fmt(med(lambda r: r["enqueue_cost"]["cmds"]), 1), fmt(med(lambda r: r["drain_cost"]["cmds"]), 1),
                         fmt(med(lambda r: r["worker_cpu_us"]), 1)])
        say(table(["system", "enqueue jobs/s (4 producers)", "Redis µs/job enqueue", "Redis µs/job drain",
                   "Redis µs/job whole", "one Redis core ⇒ jobs/s", "cmds/job enqueue", "cmds/job drain",
                   "worker CPU µs/job"], rows))
        # The goal is a ratio in one run: per repetition, each Quell row ÷ Sidekiq's run next to it
        # (the machine's speed moves by 2× within a run; medians of absolute µs taken from different
        # repetitions can compare a slow minute with a quick one).
        sidekiq = next((p for p in peers if isinstance(p, Sidekiq)), None)
        if sidekiq is not None and quells:
            say("", f"Redis CPU per job, Quell ÷ {sidekiq.label} per repetition (median of the ratios, min–max;"
                " below 1: Quell spends less):", "")
            cost = lambda key, m, part: [r[part]["cpu_us"] for r in results[(key, m)]]
            rows = [[q.label] + [ratio_cell(cost(q.key, m, part), cost(sidekiq.key, m, part))
                                 for m, part in ((mode, "enqueue_cost"), (mode, "drain_cost"), (mode, "whole_cost"),
                                                 ("enqueue-while-draining", "whole_cost"))]
                    for q in quells]
            say(table(["", "enqueue", "drain", "whole path", "whole path while draining"], rows))
        say("", "Commands per job by command (median repetition by whole-path Redis CPU):", "")
        for s in systems:
            rs = sorted(results[(s.key, mode)], key=lambda r: r["whole_cost"]["cpu_us"])
            r = rs[len(rs) // 2]
            for phase in ("enqueue", "drain"):
                top = ", ".join(f"{k} {v:.2f}" for k, v in list(r[f"{phase}_cost"]["breakdown"].items())[:10])
                say(f"- {s.label}, {phase}: {top}")
        say("", f"Whole path while draining (enqueue-while-draining; medians of {reps}):", "")
        rows = []
        for s in systems:
            rs = sorted(results[(s.key, "enqueue-while-draining")], key=lambda r: r["whole_cost"]["cpu_us"])
            r = rs[len(rs) // 2]
            top = ", ".join(f"{k} {v:.2f}" for k, v in list(r["whole_cost"]["breakdown"].items())[:8])
            rows.append([s.label, fmt(r["whole_cost"]["cpu_us"], 1), fmt(r["whole_cost"]["cmds"], 1), top])
        say(table(["system", "Redis µs/job", "cmds/job", "top commands per job"], rows))
        for q in quells:
            api = statistics.median(r["api_cpu_us"] for r in results[(q.key, mode)])
            say("", f"{q.label} api CPU per job (enqueue through the API): {fmt(api, 1)} µs")

        say("", f"### 6. Worker RSS (KiB of the worker's process tree; idle after its first job, peak while draining; medians of {reps})", "")
        rows = []
        for s in systems:
            idle = [r["rss_idle"] for r in results[(s.key, "enqueue-while-draining")]]
            peak = [r["rss_peak"] for m in MODES for r in results[(s.key, m)]]
            rows.append([s.label, fmt(statistics.median(idle)), fmt(statistics.median(peak))])
        say(table(["system", "RSS idle KiB", "RSS loaded KiB"], rows))

    # 2: enqueue rates -----------------------------------------------------

    def enqueue_rates(self):
        jobs, reps = self.cfg.enqueue_jobs, self.cfg.reps
        c = self.ctx
        variants = [
            ("Quell: POST /v1/jobs, 1 client (quell-bench)", Quell(c, 8), 1, 1),
            ("Quell: POST /v1/jobs, 4 clients (quell-bench)", Quell(c, 8), 4, 1),
            ("Quell: POST /v1/jobs, 4 clients (Python http.client)", Quell(c, 8, python_client=True), 4, 1),
            ("Celery: delay(), 1 client", Celery(c, "solo"), 1, 1),
            ("Celery: group of 100 apply_async()", Celery(c, "solo"), 1, 100),
            ("RQ: enqueue(), 1 client", RQ(c), 1, 1),
            ("RQ: enqueue_many(100)", RQ(c), 1, 100),
            ("Dramatiq: send(), 1 client (no batch call)", Dramatiq(c), 1, 1),
            ("Sidekiq: Client.push, 1 client", Sidekiq(c), 1, 1),
            ("Sidekiq: Client.push_bulk(100)", Sidekiq(c), 1, 100),
        ]
        results = {v[0]: [] for v in variants}
        library = {"enqueue_single": [], "enqueue_batched_100": []}
        for rep in range(reps):
            for name, system, clients, batch in variants:
                self.fresh()
                system.begin()
                try:
                    s0 = self.probe.snapshot()
                    api_cpu0 = cpu_s(system.api_pid()) if isinstance(system, Quell) else 0
                    first, last = system.enqueue(jobs, clients=clients, batch=batch)
                    s1 = self.probe.snapshot()
                    r = {"rate": jobs / (last - first), "cost": diff(s0, s1, jobs)}
                    if isinstance(system, Quell):
                        r["api_cpu_us"] = (cpu_s(system.api_pid()) - api_cpu0) / jobs * 1e6
                        if not system.python_client:
                            r["client_cpu_us"] = system.client_cpu / jobs * 1e6
                    results[name].append(r)
                finally:
                    system.end()
                say(f"  rep {rep + 1}/{reps} {name:56} {r['rate']:9.0f} jobs/s")
            self.fresh()
            p = c.procs.start("quell-bench-store", [c.quell_bench, "store", "--url", c.redis_url, "--jobs", str(jobs)])
            wait_for("quell-bench store", lambda: p.poll() is not None, 600, 0.05)
            c.procs.forget(p)
            text = log_text(p)
            if p.returncode != 0:
                raise BenchError(f"quell-bench store exited {p.returncode}:\n{text[-3000:]}")
            for line in text.splitlines():
                parts = line.split()
                if len(parts) == 3 and parts[0] in library:
                    library[parts[0]].append(float(parts[1]))
            say(f"  rep {rep + 1}/{reps} {'Quell library: enqueue / enqueue(batch: 100)':56} "
                f"{library['enqueue_single'][-1]:9.0f} / {library['enqueue_batched_100'][-1]:.0f} jobs/s")
        say("", f"### 2. Enqueue rate ({jobs} jobs; jobs/s min / median / max of {reps}; Redis per job medians)", "")
        rows = []
        for name, system, clients, batch in variants:
            rs = results[name]
            extra = ""
            if "api_cpu_us" in rs[0]:
                extra = f"api {statistics.median(r['api_cpu_us'] for r in rs):.0f} µs"
                if "client_cpu_us" in rs[0]:
                    extra += f", client {statistics.median(r['client_cpu_us'] for r in rs):.0f} µs"
            rows.append([name, fmt_mmm([r["rate"] for r in rs]), fmt(statistics.median(r["cost"]["cpu_us"] for r in rs), 1),
                         fmt(statistics.median(r["cost"]["cmds"] for r in rs), 2), extra or "—"])
        rows.append(["Quell library: JobStore.enqueue, 1 caller (quell-bench store)", fmt_mmm(library["enqueue_single"]), "—", "—", "—"])
        rows.append(["Quell library: JobStore.enqueue(batch:) of 100", fmt_mmm(library["enqueue_batched_100"]), "—", "—", "—"])
        say(table(["path", "jobs/s", "Redis µs/job", "cmds/job", "CPU per job"], rows))

    # 4: cancel latency ----------------------------------------------------

    def cancel(self):
        n = self.cfg.cancel_samples
        rows = []
        rows.append(["Quell cancel (POST /v1/jobs/{id}/cancel)", *self.cancel_quell(n)])
        for label, terminate in (("Celery revoke (threads -c 2; task checks the revoked set)", False),
                                 ("Celery revoke(terminate=True) (prefork -c 1)", True)):
            rows.append([label, *self.cancel_celery(n, terminate)])
        rows.append(["RQ send_stop_job_command (forking Worker; SimpleWorker has no horse to kill)", *self.cancel_rq(n)])
        rows.append(["Dramatiq abort (dramatiq-abort, Redis backend)", *self.cancel_dramatiq(n)])
        rows.append(["Sidekiq", "no cancel of a running job in Sidekiq OSS", "—", "—", "—"])
        say("", f"### 4. Cancel latency of a running job that checks every 1 ms ({n} cancels each; ms)", "")
        say(table(["system", "handler stopped p50", "handler stopped p99", "cancelled visible p50", "cancelled visible p99"], rows))

    @staticmethod
    def cells(stops, visible):
        ms = lambda xs, p: f"{pct(xs, p) * 1000:.2f}" if xs else "—"
        return [ms(stops, 0.5), ms(stops, 0.99), ms(visible, 0.5), ms(visible, 0.99)]

    def cancel_quell(self, n):
        self.fresh()
        q = Quell(self.ctx, 4)
        q.begin()
        worker = self.ctx.procs.start("quell-spin-worker", [self.ctx.quell_bench, "spin-worker", "--url", self.ctx.redis_url,
                                                            "--prefix", "bench", "--concurrency", "4"], env=q.environment())
        stops, visible = [], []
        try:
            wait_for("spin worker registered", lambda: q.request("GET", "/v1/stats")["workers"], 60, 0.005, proc=worker)
            for _ in range(n):
                job = q.request("POST", "/v1/jobs", {"type": "bench.spin"})
                jid = job["id"]
                wait_for("bench.spin running", lambda: q.request("GET", f"/v1/jobs/{jid}")["status"] == "running", 30, 0.001,
                         proc=worker)
                time.sleep(random.uniform(0.002, 0.008))
                t0 = time.monotonic()
                q.request("POST", f"/v1/jobs/{jid}/cancel")
                wait_for("cancelled visible", lambda: q.request("GET", f"/v1/jobs/{jid}")["status"] == "cancelled", 30, 0,
                         proc=worker)
                visible.append(time.monotonic() - t0)
                line = wait_for("handler stopped", lambda: next((l for l in log_text(worker).splitlines()
                                                                 if l.startswith(f"stopped {jid} ")), None), 30, 0.001)
                stops.append(float(line.split()[2]) - t0)
        finally:
            self.ctx.procs.stop(worker)
            q.end()
        return self.cells(stops, visible)

    def cancel_celery(self, n, terminate):
        self.fresh()
        from celery.result import AsyncResult

        from celery_app import app, spin
        system = Celery(self.ctx, "prefork" if terminate else "threads")
        argv, _ = system.worker_command()
        worker = self.ctx.procs.start(system.key + "-cancel", argv, env={"BENCH_CELERY_BACKEND": "1"})
        r = self.probe.r
        stops, visible = [], []
        try:
            for i in range(n):
                res = spin.delay()
                jid = res.id
                pid = int(wait_for("celery spin started", lambda: r.get(f"bench:started:{jid}"), 120, 0.001, proc=worker))
                time.sleep(random.uniform(0.002, 0.008))
                t0 = time.monotonic()
                app.control.revoke(jid, terminate=terminate)
                if terminate:
                    wait_for("celery child gone", lambda: not alive(pid), 30, 0, proc=worker)
                    stops.append(time.monotonic() - t0)
                    wait_for("celery REVOKED", lambda: AsyncResult(jid, app=app).state == "REVOKED", 30, 0, proc=worker)
                    visible.append(time.monotonic() - t0)
                else:
                    stop = float(wait_for("celery spin stopped", lambda: r.get(f"bench:stop:{jid}"), 30, 0, proc=worker))
                    stops.append(stop - t0)
        finally:
            self.ctx.procs.stop(worker)
        return self.cells(stops, visible)

    def cancel_rq(self, n):
        self.fresh()
        from rq import Queue
        from rq.command import send_stop_job_command
        from rq.job import Job

        import rq_tasks
        system = RQ(self.ctx, worker_class="rq.worker.Worker")
        argv, _ = system.worker_command()
        worker = self.ctx.procs.start("rq-cancel", argv)
        r = self.probe.r
        queue = Queue("default", connection=r)
        stops, visible = [], []
        try:
            for i in range(n):
                job = queue.enqueue(rq_tasks.spin)
                pid = int(wait_for("rq spin started", lambda: r.get(f"bench:started:{job.id}"), 60, 0.001, proc=worker))
                wait_for("rq job has its worker", lambda: Job.fetch(job.id, connection=r).worker_name, 30, 0.001)
                time.sleep(random.uniform(0.002, 0.008))
                t0 = time.monotonic()
                send_stop_job_command(r, job.id)
                wait_for("rq horse gone", lambda: not alive(pid), 30, 0, proc=worker)
                stops.append(time.monotonic() - t0)
                wait_for("rq stopped", lambda: Job.fetch(job.id, connection=r).get_status() == "stopped", 30, 0, proc=worker)
                visible.append(time.monotonic() - t0)
        finally:
            self.ctx.procs.stop(worker)
        return self.cells(stops, visible)

    def cancel_dramatiq(self, n):
        self.fresh()
        try:
            from dramatiq_abort import abort
        except ImportError:
            return ["dramatiq-abort did not install", "—", "—", "—"]
        from dramatiq_app import spin
        system = Dramatiq(self.ctx)
        argv, _ = system.worker_command()
        worker = self.ctx.procs.start("dramatiq-cancel", argv, env={"BENCH_DRAMATIQ_ABORT": "1"})
        r = self.probe.r
        stops = []
        try:
            for i in range(n):
                name = f"spin-{i}"
                message = spin.send(name)
                wait_for("dramatiq spin started", lambda: r.get(f"bench:started:{name}"), 60, 0.001, proc=worker)
                time.sleep(random.uniform(0.002, 0.008))
                t0 = time.monotonic()
                abort(message.message_id)
                stop = float(wait_for("dramatiq spin aborted", lambda: r.get(f"bench:stop:{name}"), 30, 0, proc=worker))
                stops.append(stop - t0)
        finally:
            self.ctx.procs.stop(worker)
        return self.cells(stops, []) [:2] + ["no job status in Dramatiq", "—"]

    # 5: stuck detection ---------------------------------------------------

    def stuck(self):
        """All systems at once (they time out in seconds, and share nothing but
        Redis): start a long job, kill -9 the worker's process group mid-job,
        start a replacement worker as a supervisor would, and time until the
        job runs again or is closed."""
        cap = self.cfg.stuck_cap
        self.fresh()
        c = self.ctx
        r = self.probe.r
        results = {}
        quell = Quell(c, 4)
        quell.begin()
        try:
            def quell_case():
                quell.start_workers()
                jid = quell.request("POST", "/v1/jobs", {"type": "demo.sleep", "params": {"ms": 3_600_000}})["id"]
                wait_for("quell sleep running", lambda: quell.request("GET", f"/v1/jobs/{jid}")["status"] == "running", 60, 0.01)
                conn = http.client.HTTPConnection("127.0.0.1", quell.port)
                return (lambda: quell.stop_workers(signal.SIGKILL), lambda: quell.start_workers(),
                        lambda: recovered_quell(quell, conn, jid))

            def recovered_quell(q, conn, jid):
                job = q.request("GET", f"/v1/jobs/{jid}", connection=conn)
                if job["status"] in ("completed", "failed", "timed_out", "cancelled", "completed_with_errors"):
                    return f"closed {job['status']}"
                if job["attempt"] >= 2 or job["status"] == "queued":
                    return "requeued"
                return None

            def peer_case(system, enqueue):
                system.start_workers()
                jid = enqueue()
                wait_for(f"{system.label} sleep started", lambda: r.get(f"bench:starts:{jid}"), 120, 0.01)

                def check():
                    if int(r.get(f"bench:starts:{jid}") or 0) >= 2:
                        return "run again"
                    status = closed(system, jid)
                    return f"closed {status}" if status else None
                return (lambda: system.stop_workers(signal.SIGKILL), lambda: system.start_workers(), check)

            def closed(system, jid):
                if isinstance(system, RQ):
                    from rq.job import Job
                    status = Job.fetch(jid, connection=r).get_status()
                    return status if status in ("failed", "stopped", "canceled") else None
                return None

            def celery_enqueue():
                from celery_app import sleep
                return sleep.delay().id

            def rq_enqueue():
                from rq import Queue
                import rq_tasks
                return Queue("default", connection=r).enqueue(rq_tasks.sleep).id

            def dramatiq_enqueue():
                from dramatiq_app import sleep
                sleep.send("stuck")
                return "stuck"

            def sidekiq_enqueue():
                import json as _json
                import uuid
                jid = uuid.uuid4().hex[:24]
                now = time.time()
                # What Sidekiq::Client.push writes for a job (6.4): the queue set and the payload.
                r.sadd("queues", "default")
                r.lpush("queue:default", _json.dumps({"class": "SleepJob", "args": [], "retry": False, "queue": "default",
                                                       "jid": jid, "created_at": now, "enqueued_at": now}))
                return jid

            cases = [("Quell (defaults: heartbeat 2 s, stale after 10 s, reaper 1 s)", quell_case)]
            cases += [(s.label + note, (lambda s=s, e=e: peer_case(s, e))) for s, e, note in (
                (Celery(c, "solo"), celery_enqueue, " (acks on receipt by default)"),
                (RQ(c), rq_enqueue, " (StartedJobRegistry cleanup)"),
                (Dramatiq(c), dramatiq_enqueue, " (Redis broker heartbeats, 60 s timeout)"),
                (Sidekiq(c), sidekiq_enqueue, " (OSS basic fetch)"))]
            armed = []
            for label, case in cases:
                armed.append((label, *case()))
            t_kill = {}
            for label, kill, restart, _ in armed:
                t_kill[label] = time.monotonic()
                kill()
                restart()
            pending = {label: check for label, _, _, check in armed}
            while pending and time.monotonic() - min(t_kill.values()) < cap:
                for label in list(pending):
                    outcome = pending[label]()
                    if outcome:
                        results[label] = (f"{time.monotonic() - t_kill[label]:.1f} s", outcome)
                        del pending[label]
                time.sleep(0.05)
            for label in pending:
                results[label] = (f"> {cap:.0f} s", "neither run again nor closed within the cap")
        finally:
            quell.end()
            c.procs.kill_all()  # the peers' replacement workers (redis-server is not ours to stop)
        say("", f"### 5. Stuck detection: kill -9 mid-job, replacement worker started at once, defaults (cap {cap:.0f} s)", "")
        say(table(["system", "recovered or closed after", "outcome"], [[k, *v] for k, v in results.items()]))

    # 7: scale curve -------------------------------------------------------

    def scale(self):
        jobs, reps = self.cfg.jobs, self.cfg.reps
        c = self.ctx
        systems = [Quell(c, 8, processes=k) for k in (1, 2, 4)] + [Sidekiq(c)]
        results = {s.key: [] for s in systems}
        for rep in range(reps):
            for s in systems:
                r = self.run_throughput(s, "enqueue-then-drain", jobs)
                results[s.key].append(r)
                say(f"  rep {rep + 1}/{reps} {s.label:32} {r['rate']:9.0f} jobs/s, Redis drain {r['drain_cost']['cpu_us']:.1f} µs/job")
        say("", f"### 7. Scale curve: enqueue then drain {jobs} jobs, Quell c8 per process (min / median / max of {reps})", "")
        rows = []
        for s in systems:
            rs = results[s.key]
            whole = statistics.median(r["whole_cost"]["cpu_us"] for r in rs)
            drain = statistics.median(r["drain_cost"]["cpu_us"] for r in rs)
            rows.append([s.label, fmt_mmm([r["rate"] for r in rs]), fmt(drain, 1), fmt(whole, 1),
                         fmt(1e6 / drain if drain else None), fmt(1e6 / whole if whole else None)])
        say(table(["workers", "drain jobs/s", "Redis µs/job drain", "Redis µs/job whole",
                   "one Redis core ⇒ drain jobs/s", "one Redis core ⇒ whole-path jobs/s"], rows))

    # idle cost and start latency -----------------------------------------

    def idle(self):
        window = self.cfg.idle_window
        c = self.ctx
        rows = []

        def measure(label):
            s0 = self.probe.snapshot()
            time.sleep(window)
            s1 = self.probe.snapshot()
            d = diff(s0, s1, window)
            top = ", ".join(f"{k} {v:.1f}" for k, v in list(d["breakdown"].items())[:6])
            rows.append([label, fmt(d["cmds"], 1), fmt(d["cpu_us"] / 1000, 2), top or "—"])
            return d

        self.fresh()
        time.sleep(1)
        measure("redis-server with no client but this driver (baseline)")
        q = Quell(c, 8)
        q.begin()
        # The watcher is part of the realistic path elsewhere; here the api idles alone.
        q.watching.set()
        q.watcher.join()
        try:
            time.sleep(1)
            api = measure("quell api, idle (reaper and janitor in-process)")
            q.start_workers()
            time.sleep(1)
            both = measure("quell api + quell worker c8, idle")
            rows.append(["⇒ quell worker c8 alone (difference)", fmt(both["cmds"] - api["cmds"], 1),
                         fmt((both["cpu_us"] - api["cpu_us"]) / 1000, 2), "—"])
            samples = self.start_latency(q)
        finally:
            q.stop_workers()
            q.end()
        for system in (Sidekiq(c), Celery(c, "solo"), RQ(c), Dramatiq(c)):
            self.fresh()
            system.start_workers()
            try:
                system.probe()
                wait_for(f"{system.label} first job", lambda: system.done() >= 1, 120, 0.01)
                time.sleep(1)
                measure(f"{system.label}, idle")
            finally:
                system.stop_workers()
        say("", f"### Idle cost (INFO commandstats over {window:.0f} s; per second)", "")
        say(table(["what", "commands/s", "Redis CPU ms/s", "top commands/s"], rows))
        say("", f"### Start latency of a job enqueued to an idle Quell worker ({len(samples)} samples, ms)", "",
            "From the client's clock just before POST /v1/jobs to the job's started_at (milliseconds, same machine clock).", "")
        say(table(["p50", "p90", "p99", "max"],
                  [[f"{pct(samples, p):.1f}" for p in (0.5, 0.9, 0.99)] + [f"{max(samples):.1f}"]]))

    def start_latency(self, q):
        samples = []
        for _ in range(self.cfg.start_samples):
            time.sleep(random.uniform(0.05, 0.1))  # the worker is back in its blocking read
            t0 = time.time()
            jid = q.request("POST", "/v1/jobs", {"type": "demo.noop"})["id"]
            job = wait_for("noop completed", lambda: (lambda j: j if j["status"] == "completed" else None)(
                q.request("GET", f"/v1/jobs/{jid}")), 30, 0.001)
            started = datetime.datetime.fromisoformat(job["started_at"].replace("Z", "+00:00")).timestamp()
            samples.append((started - t0) * 1000)
        return samples


class Config:
    def __init__(self, quick):
        self.quick = quick
        self.jobs = 3000 if quick else 20000
        self.jobs_slow = 500 if quick else 5000
        self.enqueue_jobs = 2000 if quick else 10000
        self.reps = 3
        self.cancel_samples = 10 if quick else 60
        self.stuck_cap = 30.0 if quick else 120.0
        self.idle_window = 3.0 if quick else 10.0
        self.start_samples = 50 if quick else 100
        self.systems = None  # throughput: only these keys (--systems)
        self.quell_b = None  # throughput: also this build of quell (--quell-b)


SECTIONS = ("throughput", "enqueue", "cancel", "stuck", "scale", "idle")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--quell", required=True)
    parser.add_argument("--quell-bench", required=True)
    parser.add_argument("--tmp", required=True)
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections: " + ",".join(SECTIONS))
    parser.add_argument("--systems", default="", help="throughput: only these, comma-separated (quell-c4, quell-c8,"
                        " quell-c64, their -B twins, celery-solo, celery-threads, rq, dramatiq, sidekiq)")
    parser.add_argument("--quell-b", default="", help="throughput: also run this quell binary (keys quell-c4-B …)")
    a = parser.parse_args()
    cfg = Config(a.quick)
    cfg.systems = set(a.systems.split(",")) if a.systems else None
    cfg.quell_b = a.quell_b or None
    env = dict(os.environ)
    env["BENCH_REDIS_URL"] = a.redis_url
    env["REDIS_URL"] = a.redis_url  # Sidekiq
    env["PYTHONPATH"] = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps")
    os.environ.update(BENCH_REDIS_URL=a.redis_url, BENCH_CELERY_BACKEND="1", BENCH_DRAMATIQ_ABORT="1")
    sys.path.insert(0, env["PYTHONPATH"])
    procs = Procs(a.tmp, env)
    probe = RedisProbe(a.redis_url)
    ctx = Context(procs, probe, a.redis_url, a.quell, a.quell_bench, sys.executable, a.tmp)
    bench = Bench(ctx, cfg)
    started = time.monotonic()
    try:
        for section in a.only.split(","):
            say("", f"## {section} ({time.monotonic() - started:.0f} s into the run)")
            getattr(bench, {"enqueue": "enqueue_rates"}.get(section, section))()
    except BenchError as e:
        say("", f"bench/peers FAILED: {e}")
        return 1
    finally:
        procs.kill_all()
    say("", f"bench/peers: done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
