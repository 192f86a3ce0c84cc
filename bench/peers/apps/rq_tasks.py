"""RQ tasks for bench/peers: a no-op that counts itself, a spinner for the
cancel test (RQ stops a job by killing its work horse), a sleeper for the
stuck test."""
import os
import time

import redis
from rq import get_current_job

counter = redis.Redis.from_url(os.environ["BENCH_REDIS_URL"])


def noop():
    counter.incr("bench:done")


def spin():
    counter.set(f"bench:started:{get_current_job().id}", os.getpid())
    while True:
        time.sleep(0.001)


def sleep():
    counter.incr(f"bench:starts:{get_current_job().id}")
    time.sleep(3600)
