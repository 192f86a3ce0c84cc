"""What every bench/peers section shares: child processes (started in
sessions of their own, so a whole tree can be killed), /proc readings (RSS,
CPU), Redis INFO readings, waiting by condition, and summaries."""
import math
import os
import signal
import statistics
import subprocess
import time

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
APPS = os.path.join(HERE, "apps")


class BenchError(RuntimeError):
    """A system did not do what a section waits for: the run fails."""


class Procs:
    """Child processes of the run; every one is killed (its whole session) at the end."""

    def __init__(self, tmp, env):
        self.tmp = tmp
        self.env = env
        self.live = []
        self.serial = 0

    def start(self, name, argv, env=None, cwd=APPS, stdin=False):
        self.serial += 1
        log = os.path.join(self.tmp, f"{self.serial:04d}-{name}.log")
        full_env = dict(self.env)
        full_env.update(env or {})
        with open(log, "w") as out:
            p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env=full_env,
                                 stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                 start_new_session=True, text=True)
        p.log = log
        p.name = name
        self.live.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, wait=15):
        """Signals the process's session, waits for the leader, then kills what is left."""
        if p.poll() is None:
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(wait)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass
        if p in self.live:
            self.live.remove(p)

    def forget(self, p):
        """A process that has exited by itself."""
        if p in self.live:
            self.live.remove(p)

    def kill_all(self):
        for p in list(self.live):
            self.stop(p, signal.SIGKILL, wait=2)


def log_text(p):
    with open(p.log, errors="replace") as f:
        return f.read()


def wait_for(what, condition, timeout, interval=0.002, proc=None):
    """Polls condition() until it is truthy; fails loudly after timeout or if proc exits."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise BenchError(f"{what}: {proc.name} exited ({proc.returncode}); its log:\n{log_text(proc)[-3000:]}")
        if time.monotonic() > deadline:
            tail = f"; log of {proc.name}:\n{log_text(proc)[-3000:]}" if proc is not None else ""
            raise BenchError(f"{what}: not reached within {timeout:.0f} s{tail}")
        time.sleep(interval)


# /proc readings ------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _children():
    kids = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    text = f.read()
            except OSError:
                continue
            ppid = int(text[text.rindex(")") + 2:].split()[1])
            kids.setdefault(ppid, []).append(int(entry))
    return kids


def tree(pid):
    """pid and all its descendants."""
    kids = _children()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def rss_kib(pid):
    """VmRSS of pid and its descendants, KiB."""
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def cpu_s(pid, with_children=True):
    """utime + stime of pid (and its live descendants), seconds."""
    total = 0
    for p in tree(pid) if with_children else [pid]:
        try:
            with open(f"/proc/{p}/stat") as f:
                text = f.read()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def alive(pid):
    """False once pid is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return False
    return text[text.rindex(")") + 2] != "Z"


# Redis readings ------------------------------------------------------------

class RedisProbe:
    """The driver's own connection: INFO cpu and commandstats, the peers' counter.
    It counts the commands it sends itself, so they can be taken out of a diff."""

    HARNESS = {"info", "flushall", "config|resetstat", "function|flush", "script|flush"}

    def __init__(self, url):
        self.r = redis.Redis.from_url(url)
        self.gets = 0

    def cpu(self):
        info = self.r.info("cpu")
        return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])

    def commandstats(self):
        out = {}
        for key, value in self.r.info("commandstats").items():
            name = key[len("cmdstat_"):] if key.startswith("cmdstat_") else key
            out[name] = (int(value["calls"]), int(value["usec"]))
        return out

    def snapshot(self):
        """(redis cpu seconds, commandstats, own GETs so far)."""
        return (self.cpu(), self.commandstats(), self.gets)

    def counter(self, key="bench:done"):
        self.gets += 1
        v = self.r.get(key)
        return int(v) if v is not None else 0

    def flush(self):
        self.r.flushall()


def diff(before, after, jobs, counter_incrs=0):
    """Redis cost between two snapshots: cpu µs per job, commands per job
    (without the driver's own INFO/GET/FLUSHALL and the peers' counter INCRs),
    and the per-command breakdown."""
    cpu0, stats0, gets0 = before
    cpu1, stats1, gets1 = after
    calls = {}
    for name, (c1, _) in stats1.items():
        c = c1 - stats0.get(name, (0, 0))[0]
        if name in RedisProbe.HARNESS:
            continue
        if name == "get":
            c -= gets1 - gets0
        if name == "incr":
            c -= counter_incrs
        if c > 0:
            calls[name] = c
    total = sum(calls.values())
    return {
        "cpu_us": (cpu1 - cpu0) / jobs * 1e6,
        "cmds": total / jobs,
        "breakdown": {k: v / jobs for k, v in sorted(calls.items(), key=lambda kv: -kv[1])},
    }


# Summaries -----------------------------------------------------------------

def mmm(values):
    """min / median / max."""
    return (min(values), statistics.median(values), max(values))


def pct(values, p):
    """Nearest-rank percentile: p99 of 100 samples is the 99th smallest."""
    s = sorted(values)
    return s[max(0, min(len(s) - 1, math.ceil(len(s) * p) - 1))]


def fmt(x, digits=0):
    if x is None:
        return "—"
    if isinstance(x, str):
        return x
    if digits == 0:
        return f"{x:,.0f}".replace(",", " ")
    return f"{x:.{digits}f}"


def fmt_mmm(values, digits=0):
    if not values:
        return "—"
    lo, med, hi = mmm(values)
    return f"{fmt(lo, digits)} / {fmt(med, digits)} / {fmt(hi, digits)}"


def table(headers, rows):
    """A Markdown table (BENCHMARKS.md takes it as printed)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    return "\n".join(lines)
