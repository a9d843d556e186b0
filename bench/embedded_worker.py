"""The embedded default's worker process: RSS idle and after a drain, and latency from send to stored.

    .venv/bin/python bench/embedded_worker.py [--checkout DIR] [--events 2000] [--samples 40]

Starts `manage.py serve` of DIR (default: this checkout) with no DATABASE_URL / REDIS_URL in a
temporary DATA_DIR, with this interpreter, so an older checkout (e.g. `git archive` of the Celery-threads
worker) can be measured the same way. The worker is the process whose command line runs
`config.runner` or `celery ... worker`; latency is from the POST to the row being visible in SQLite
(polled every 2 ms), one envelope at a time with a random pause between them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
print = partial(print, flush=True)  # noqa: A001 - figures must show even if a run is cut short


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkout", default=str(HERE))
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--idle", type=float, default=20.0)
    args = parser.parse_args()
    root = Path(args.checkout).resolve()
    data = Path(tempfile.mkdtemp(prefix="lighttrace-bench-worker-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DATA_DIR=str(data), PORT=str(port), LIGHTTRACE_URL=f"http://127.0.0.1:{port}", PYTHONPATH=str(root)
    )
    manage(root, env, "migrate", "--noinput")
    dsn = manage(root, env, "create_project", "bench", "worker")
    key, project = dsn.split("//", 1)[1].split("@", 1)[0], dsn.rsplit("/", 1)[1]
    url = f"http://127.0.0.1:{port}/api/{project}/envelope/?sentry_key={key}&sentry_version=7"
    serve = subprocess.Popen(
        [sys.executable, "manage.py", "serve"], cwd=root, env=env, start_new_session=True,
        stdout=open(data / "serve.log", "wb"), stderr=subprocess.STDOUT,  # noqa: SIM115
    )  # fmt: skip
    print(f"DATA_DIR {data}", flush=True)
    try:
        wait_healthy(port)
        time.sleep(args.idle)
        worker = worker_pid(serve.pid)
        print(f"checkout {root} ({git_head(root)}); worker: {cmdline(worker)[:80]}")
        print(
            f"worker RSS idle after {args.idle:.0f} s: {rss_mb(worker):.1f} MB; tree {tree_rss_mb(serve.pid):.1f} MB"
        )
        db = sqlite3.connect(f"file:{data / 'lighttrace.sqlite3'}?mode=ro", uri=True)
        latencies = [one_latency(url, db) for _ in range(args.samples)]
        q = statistics.quantiles(latencies, n=20)
        print(
            f"send -> stored, {args.samples} single events: p50 {statistics.median(latencies) * 1000:.0f} ms, "
            f"p95 {q[18] * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms"
        )
        seconds = burst(url, db, args.events)
        print(f"{args.events} events sent by 8 threads, all stored after {seconds:.1f} s")
        print(
            f"worker RSS right after the drain: {rss_mb(worker):.1f} MB; tree {tree_rss_mb(serve.pid):.1f} MB"
        )
        time.sleep(15)
        print(f"worker RSS 15 s later: {rss_mb(worker):.1f} MB; tree {tree_rss_mb(serve.pid):.1f} MB")
        assert serve.poll() is None, "serve exited"
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        serve.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(root: Path, env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=root, env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(done.stderr)
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def git_head(root: Path) -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
    return done.stdout.strip() or "not a git checkout"


def wait_healthy(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_health/", timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise SystemExit("serve did not become healthy")


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError):
                continue
    return found


def descendants(pid: int) -> list[int]:
    result, todo = [], [pid]
    while todo:
        current = todo.pop()
        result.append(current)
        todo.extend(children(current))
    return result


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def worker_pid(root: int) -> int:
    for pid in descendants(root)[1:]:  # not serve's supervisor, whose argument names every command
        line = cmdline(pid).strip()
        if line.endswith("-m config.runner") or ("celery" in line and " worker " in line):
            return pid
    raise SystemExit("no worker process found")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def tree_rss_mb(root: int) -> float:
    return sum(rss_mb(pid) for pid in descendants(root))


def envelope(n: int) -> bytes:
    event = {
        "event_id": uuid.uuid4().hex,
        "level": "error",
        "platform": "python",
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": f"bench {n}",
                    "stacktrace": {
                        "frames": [
                            {"filename": f"app/mod{i}.py", "function": f"f{i}", "lineno": i, "in_app": True}
                            for i in range(15)
                        ]
                    },
                }
            ]
        },
    }
    return b'{}\n{"type":"event"}\n' + json.dumps(event).encode()


def post(url: str, body: bytes) -> None:
    request = urllib.request.Request(url, data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def stored(db: sqlite3.Connection) -> int:
    return db.execute("SELECT count(*) FROM issues_event").fetchone()[0]


def one_latency(url: str, db: sqlite3.Connection) -> float:
    time.sleep(random.uniform(0.1, 0.6))  # arrive at any point of the worker's cycle
    before = stored(db)
    started = time.perf_counter()
    post(url, envelope(before))
    while stored(db) == before:
        stalled(started)
        time.sleep(0.002)
    return time.perf_counter() - started


def stalled(started: float, limit: float = 60.0) -> None:
    if time.perf_counter() - started > limit:
        raise SystemExit(f"not stored within {limit:.0f} s: did the worker die? (serve.log under DATA_DIR)")


def burst(url: str, db: sqlite3.Connection, count: int) -> float:
    before = stored(db)
    started = time.perf_counter()

    def send(offset: int) -> None:
        for n in range(offset, count, 8):
            post(url, envelope(n))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    while stored(db) < before + count:
        stalled(started, 120.0)
        time.sleep(0.05)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
