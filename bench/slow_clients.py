"""The web process under slow clients, and what receiving requests whole costs the SDK hot path.

    .venv/bin/python bench/slow_clients.py [--checkout DIR] [--slow 200] [--seconds 20] [--requests 4000] [--only hot|slow]

Starts `manage.py serve` of DIR (default: this checkout; e.g. a `git archive` of an older commit)
on the embedded default in a temporary DATA_DIR, with this interpreter, and prints:

1. the hot path, web process alone (`serve --only web`, so no worker competes for the 2 cores):
   realistic gzipped SDK envelopes (bench/payload.py) from bench/loadgen.py at 1 and 32 keep-alive
   connections: accepted/s, p50 / p99 / max, and the web processes' CPU per request;
2. slow clients (`serve`, web and runner): --slow connections held open all along (reopened when
   the server closes one), a quarter each announcing a 10 MB body and trickling a byte a second,
   announcing one and sending nothing, chunked with a one-byte chunk a second, and trickling their
   request headers a byte a second; meanwhile, every 0.25 s, one envelope POST from a fresh
   connection, GET /_health/ and GET /login/, each with a 5 s timeout: status counts and latencies.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from payload import write_pool  # noqa: E402
from procstats import all_procs, cmdline, descendants  # noqa: E402

print = partial(print, flush=True)  # noqa: A001 - figures must show even if a run is cut short
ENVELOPE = b'{"event_id":"%s"}\n{"type":"event"}\n{"message":"slow clients bench","level":"error"}\n'


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkout", default=str(HERE.parent))
    parser.add_argument("--slow", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--only", choices=("hot", "slow"), help="run one of the two phases")
    args = parser.parse_args()
    root = Path(args.checkout).resolve()
    print(f"checkout {root} ({git_head(root)})")
    if args.only != "slow":
        hot_path(root, args.requests)
    if args.only != "hot":
        slow_phase(root, args.slow, args.seconds)


def _is_web(command: str) -> bool:
    """granian's processes, or the embedded default's one web process (config/web.py)."""
    return "granian" in command or "config.web" in command


class Serve:
    """`manage.py serve` of a checkout on the embedded default, in a temporary DATA_DIR."""

    def __init__(self, root: Path, *serve_args: str) -> None:
        self.root, self.data, self.port = (
            root,
            Path(tempfile.mkdtemp(prefix="lighttrace-bench-slow-")),
            free_port(),
        )
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        self.env.update(
            DATA_DIR=str(self.data), PORT=str(self.port), LIGHTTRACE_URL=f"http://127.0.0.1:{self.port}",
            PYTHONPATH=str(root),
        )  # fmt: skip
        self.manage("migrate", "--noinput")
        dsn = self.manage("create_project", "bench", "slow")
        self.key, self.project = dsn.split("//", 1)[1].split("@", 1)[0], dsn.rsplit("/", 1)[1]
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", *serve_args], cwd=root, env=self.env, start_new_session=True,
            stdout=open(self.data / "serve.log", "wb"), stderr=subprocess.STDOUT,  # noqa: SIM115
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while get(self.url("/_health/web/"))[0] != 200:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise SystemExit(f"serve did not come up:\n{(self.data / 'serve.log').read_text()[-2000:]}")
            time.sleep(0.25)

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=self.root, env=self.env, capture_output=True, text=True
        )
        if done.returncode:
            raise SystemExit(done.stderr)
        return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def web_ticks(self) -> int:
        procs = all_procs()
        return sum(procs[p].ticks for p in descendants(self.process.pid, procs) if _is_web(cmdline(p)))

    def web_rss_mb(self) -> float:
        procs = all_procs()
        return sum(procs[p].rss for p in descendants(self.process.pid, procs) if _is_web(cmdline(p))) / 2**20

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)


def hot_path(root: Path, requests: int) -> None:
    serve = Serve(root, "--only", "web")
    try:
        pool = serve.data / "pool.bin"
        sizes = write_pool(pool, requests, serve.key)
        print(
            f"hot path, web process alone: {requests} envelopes of {sizes['mean_gzip_bytes']:.0f} B gzipped"
        )
        start = 0
        for concurrency, count in ((1, min(1000, requests // 4)), (32, requests - min(1000, requests // 4))):
            ticks = serve.web_ticks()
            result = loadgen(serve, pool, start, count, concurrency)
            cpu_ms = (
                (serve.web_ticks() - ticks) * 1000 / os.sysconf("SC_CLK_TCK") / max(1, result["answered"])
            )
            lat = result["latency"]
            print(
                f"  {concurrency:>2} connections: {result['accepted_per_s']:.0f} accepted/s ({result['ok']} of "
                f"{result['answered']} answered 200); p50 {lat['p50_ms']:.2f} ms, p99 {lat['p99_ms']:.2f} ms, "
                f"max {lat['max_ms']:.1f} ms; web CPU {cpu_ms:.2f} ms per request"
            )
            start += count
        print(f"  web RSS (granian main + worker) after the load: {serve.web_rss_mb():.1f} MB")
    finally:
        serve.stop()


def loadgen(serve: Serve, pool: Path, start: int, count: int, concurrency: int) -> dict:
    done = subprocess.run(
        [sys.executable, str(HERE / "loadgen.py"), "--port", str(serve.port), "--project", serve.project,
         "--key", serve.key, "--pool", str(pool), "--start", str(start), "--count", str(count),
         "--concurrency", str(concurrency)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


def slow_phase(root: Path, slow: int, seconds: float) -> None:
    serve = Serve(root)
    stop = threading.Event()
    opened = Counter()
    try:
        kinds = ["trickle", "silent", "chunked", "headers"]
        holders = [
            threading.Thread(target=hold, args=(serve, kinds[i % 4], stop, opened), daemon=True)
            for i in range(slow)
        ]
        for holder in holders:
            holder.start()
        time.sleep(2.0)
        print(f"slow clients: {slow} connections held open for {seconds:.0f} s ({', '.join(kinds)})")
        probes = {"envelope POST": [], "GET /_health/": [], "GET /login/": []}
        auth = {"X-Sentry-Auth": f"Sentry sentry_key={serve.key}, sentry_version=7"}
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            body = ENVELOPE % os.urandom(16).hex().encode()
            probes["envelope POST"].append(get(serve.url(f"/api/{serve.project}/envelope/"), body, auth))
            probes["GET /_health/"].append(get(serve.url("/_health/")))
            probes["GET /login/"].append(get(serve.url("/login/")))
            time.sleep(0.25)
        for name, results in probes.items():
            statuses = Counter(status for status, _ in results)
            times = sorted(ms for _, ms in results)
            print(
                f"  {name:<14} {dict(statuses)}; p50 {statistics.median(times):.1f} ms, max {times[-1]:.1f} ms"
            )
        print(
            f"  connections opened by the slow clients (reopened after the server closed one): {dict(opened)}"
        )
    finally:
        stop.set()
        serve.stop()


def hold(serve: Serve, kind: str, stop: threading.Event, opened: Counter) -> None:
    """Keeps one slow connection of `kind` open until `stop`, opening a new one when it is closed."""
    path = f"/api/{serve.project}/envelope/"
    heads = {
        "trickle": f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n",
        "silent": f"POST {path}?sentry_key={serve.key} HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n",
        "chunked": f"POST {path}?sentry_key={serve.key} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
        "headers": f"POST {path} HTTP/1.1\r\n",
    }
    tick = {"trickle": b"a", "silent": b"", "chunked": b"1\r\na\r\n", "headers": b"X"}[kind]
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", serve.port), timeout=5) as conn:
                opened[kind] += 1
                conn.sendall(heads[kind].encode())
                while not stop.wait(1.0) and not closed_by_server(conn):
                    if tick:
                        conn.sendall(tick)
        except OSError:
            time.sleep(0.1)


def closed_by_server(conn: socket.socket) -> bool:
    """Whether the server has answered or closed (the slow client then starts over)."""
    try:
        return conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) is not None
    except BlockingIOError:
        return False


def get(url: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int | str, float]:
    started = time.monotonic()
    try:
        request = urllib.request.Request(url, data=body, headers=headers or {})
        with urllib.request.urlopen(request, timeout=5) as response:
            response.read()
            status: int | str = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError as exc:
        status = type(exc).__name__
    return status, (time.monotonic() - started) * 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def git_head(root: Path) -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
    return done.stdout.strip() or "not a git checkout"


if __name__ == "__main__":
    main()
