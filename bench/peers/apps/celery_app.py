"""Celery app for bench/peers: a no-op that counts itself, a spinner for the
cancel test, a sleeper for the stuck test. Redis broker, results ignored
(Celery's documented setting for tasks whose result nobody reads); the
cancel test turns a Redis result backend on (BENCH_CELERY_BACKEND=1) to see
REVOKED."""
import os
import time

import redis
from celery import Celery
from celery.worker import state as worker_state

URL = os.environ["BENCH_REDIS_URL"]
counter = redis.Redis.from_url(URL)

app = Celery("bench", broker=URL)
app.conf.update(
    task_ignore_result=True,
    worker_disable_rate_limits=True,
    broker_connection_retry_on_startup=True,
    task_default_queue="celery",
)
if os.environ.get("BENCH_CELERY_BACKEND") == "1":
    app.conf.update(result_backend=URL, task_ignore_result=False, task_track_started=True)


@app.task(name="bench.noop")
def noop():
    counter.incr("bench:done")


@app.task(name="bench.spin", bind=True)
def spin(self):
    """Checks the worker's revoked set (filled by revoke broadcasts) every 1 ms."""
    counter.set(f"bench:started:{self.request.id}", os.getpid())
    while self.request.id not in worker_state.revoked:
        time.sleep(0.001)
    counter.set(f"bench:stop:{self.request.id}", repr(time.monotonic()))


@app.task(name="bench.sleep", bind=True)
def sleep(self):
    counter.incr(f"bench:starts:{self.request.id}")
    time.sleep(3600)
