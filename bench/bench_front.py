"""CPU per SDK request spent by the web front (config/front.py) itself, in process:

    .venv/bin/python bench/bench_front.py [--requests 2000] [--rounds 3]

On the embedded default in a temporary DATA_DIR: the same gzipped envelope (4 KB event) answered
2,000 times by ingest.wsgi.serve_request called directly (in the front's one ingest thread), then 2,000 times through Front.__rsgi__
with a stand-in for granian's protocol (the body already there, as for an SDK request on a fast
link). Process CPU time (every thread) per request, and its parts: one round trip to a thread pool,
receive_body, and the key check before the body. granian's own Rust side is not in these figures.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    # One ingest thread, which also runs the direct calls: both ways use the same database connection.
    os.environ.update(
        DATA_DIR=tempfile.mkdtemp(prefix="lighttrace-bench-front-"),
        DJANGO_SETTINGS_MODULE="config.settings",
        WEB_THREADS="1",
    )
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], check=True)
    done = subprocess.run(
        [sys.executable, "manage.py", "create_project", "bench", "front"], capture_output=True, text=True
    )
    dsn = done.stdout.strip().splitlines()[-1]
    key, project = dsn.split("//", 1)[1].split("@", 1)[0], int(dsn.rsplit("/", 1)[1])

    from config.front import Front
    from core.request_body import Reservation, receive_body
    from ingest.endpoint import answer_before_body
    from ingest.keys import cached_key
    from ingest.wsgi import serve_request
    from tests.test_front import Proto, Scope

    event = b'{"message":"bench","extra":{"x":"' + b"y" * 4000 + b'"}}'
    body = gzip.compress(b'{}\n{"type":"event"}\n' + event + b"\n")
    headers = [
        ("content-length", str(len(body))), ("content-encoding", "gzip"),
        ("content-type", "application/x-sentry-envelope"), ("user-agent", "sentry.python/2.75.0"),
        ("x-sentry-auth", f"Sentry sentry_key={key}, sentry_version=7, sentry_client=sentry.python/2.75.0"),
    ]  # fmt: skip
    front = Front()
    pool = ThreadPoolExecutor(1)
    n = args.requests

    def direct() -> None:
        plain = dict(headers)
        for _ in range(n):
            assert (
                serve_request("POST", "envelope", project, plain, {}, lambda limit: body, "127.0.0.1")[0]
                == 200
            )

    async def through_front() -> None:
        for _ in range(n):
            proto = Proto([body])
            await front.__rsgi__(Scope("POST", f"/api/{project}/envelope/", headers), proto)
            assert proto.answer is not None and proto.answer[0] == 200, proto.answer

    async def round_trips() -> None:
        loop = asyncio.get_running_loop()
        for _ in range(n):
            await loop.run_in_executor(pool, int, 1)

    async def receiving() -> None:
        for _ in range(n):
            await receive_body(Proto([body]), len(body), 1 << 24, front.policy, Reservation(front.budget))

    async def key_checks() -> None:
        plain = dict(headers)
        for _ in range(n):
            answer_before_body("POST", "envelope", project, plain, {}, lookup=cached_key)

    def cpu_us(run) -> float:
        started = time.process_time()
        run()
        return (time.process_time() - started) / n * 1e6

    for _ in range(args.rounds):
        plain = cpu_us(lambda: front.ingest_threads.submit(direct).result())
        fronted = cpu_us(lambda: asyncio.run(through_front()))
        parts = [cpu_us(lambda f=f: asyncio.run(f())) for f in (round_trips, receiving, key_checks)]
        print(
            f"serve_request {plain:.0f} us, through the front {fronted:.0f} us (+{fronted - plain:.0f}); "
            f"thread round trip {parts[0]:.0f} us, receive_body {parts[1]:.0f} us, key check {parts[2]:.1f} us"
        )
    front.__rsgi_del__(None)
    pool.shutdown()


if __name__ == "__main__":
    main()
