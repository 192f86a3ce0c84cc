"""Dramatiq actors for bench/peers on the Redis broker: a no-op that counts
itself, a spinner for the cancel test (dramatiq-abort raises Abort in the
actor's thread; BENCH_DRAMATIQ_ABORT=1 adds its middleware), a sleeper for
the stuck test."""
import os
import time

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

URL = os.environ["BENCH_REDIS_URL"]
counter = redis.Redis.from_url(URL)
broker = RedisBroker(url=URL)
if os.environ.get("BENCH_DRAMATIQ_ABORT") == "1":
    from dramatiq_abort import Abortable, backends

    broker.add_middleware(Abortable(backend=backends.RedisBackend(client=counter)))
dramatiq.set_broker(broker)


@dramatiq.actor(max_retries=0)
def noop():
    counter.incr("bench:done")


@dramatiq.actor(max_retries=0)
def spin(name):
    """name: the driver's name for this run (the message id is not known to an actor without CurrentMessage)."""
    from dramatiq_abort import Abort

    message_id = name
    counter.set(f"bench:started:{message_id}", os.getpid())
    try:
        while True:
            time.sleep(0.001)
    except Abort:
        counter.set(f"bench:stop:{message_id}", repr(time.monotonic()))
        raise


@dramatiq.actor(max_retries=0)
def sleep(name):
    counter.incr(f"bench:starts:{name}")
    time.sleep(3600)
