"""Producer for the Python peers and a Python HTTP client for Quell:
`produce.py SYSTEM JOBS BATCH [--port P --token T]`. Prints "ready", waits
for a line on stdin (so several producers start together), enqueues JOBS
no-op jobs one by one (BATCH 1) or BATCH at a time through the system's own
client, then prints first_send and last_reply (time.monotonic)."""
import argparse
import http.client
import json
import os
import sys
import time


def celery_producer(batch):
    from celery import group

    from celery_app import noop

    noop.app.connection_for_write().ensure_connection()
    if batch <= 1:
        return lambda: noop.delay()
    return lambda: group(noop.s() for _ in range(batch)).apply_async()


def rq_producer(batch):
    import redis
    from rq import Queue

    import rq_tasks

    queue = Queue("default", connection=redis.Redis.from_url(os.environ["BENCH_REDIS_URL"]))
    queue.connection.ping()
    if batch <= 1:
        return lambda: queue.enqueue(rq_tasks.noop)
    return lambda: queue.enqueue_many([Queue.prepare_data(rq_tasks.noop) for _ in range(batch)])


def dramatiq_producer(batch):
    if batch > 1:
        raise SystemExit("dramatiq has no batch enqueue")
    from dramatiq_app import broker, noop

    broker.client.ping()
    return lambda: noop.send()


def quell_producer(batch, port, token):
    if batch > 1:
        raise SystemExit("the Quell API has no batch enqueue")
    connection = http.client.HTTPConnection("127.0.0.1", port)
    body = json.dumps({"type": "demo.noop"})
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def send():
        connection.request("POST", "/v1/jobs", body, headers)
        response = connection.getresponse()
        response.read()
        if response.status != 202:
            raise SystemExit(f"POST /v1/jobs answered {response.status}")

    return send


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("system", choices=["celery", "rq", "dramatiq", "quell"])
    parser.add_argument("jobs", type=int)
    parser.add_argument("batch", type=int)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default="bench")
    a = parser.parse_args()
    if a.system == "quell":
        send = quell_producer(a.batch, a.port, a.token)
    else:
        send = {"celery": celery_producer, "rq": rq_producer, "dramatiq": dramatiq_producer}[a.system](a.batch)
    print("ready", flush=True)
    sys.stdin.readline()
    first = time.monotonic()
    for _ in range(a.jobs // max(1, a.batch)):
        send()
    last = time.monotonic()
    print(f"first_send {first!r}\nlast_reply {last!r}", flush=True)


if __name__ == "__main__":
    main()
