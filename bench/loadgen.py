"""Closed-loop HTTP/1.1 load generator for the ingest benchmark (run by bench/run.py as its own process).

    python bench/loadgen.py --port P --project 1 --key KEY --pool FILE --start 0 --count 20000 \
        --concurrency 32 [--duration 30] [--rate 400] [--templates 5000]

C keep-alive connections (asyncio protocols over raw sockets, no HTTP library), each sending the next
pre-built request as soon as the previous answer is complete. Every request carries its own body
(a unique event), read from the pool before the clock starts; a body is never sent twice, also not
after a lost connection. Prints one JSON object: status counts (every code, errors apart), latency
percentiles, per-second completions, and the generator's own CPU time while sending.

--rate R paces the sending: request number i is not sent before i/R seconds after the start (open
loop as long as the server keeps up; with all C connections waiting for answers it falls behind, and
says by how much). --templates N reads only N bodies and sends --count requests cycling through
them, each with a fresh event_id (bench/rekey.py), for runs longer than a pool is worth building.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import sys
import time
from collections import Counter, deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from payload import http_headers, read_pool  # noqa: E402
from rekey import Template  # noqa: E402

MAX_RECONNECTS = 1000
STALL_SECONDS = 30.0  # no answer at all for this long: give up (counted as errors, never hidden)


def request_prefix(host: str, port: int, path: str, key: str) -> bytes:
    headers = http_headers(key)
    head = f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()
    )
    return head.encode("latin-1")


def build_requests(bodies: list[bytes], host: str, port: int, path: str, key: str) -> list[bytes]:
    prefix = request_prefix(host, port, path, key)
    return [prefix + b"Content-Length: %d\r\n\r\n" % len(body) + body for body in bodies]


class Rekeyed:
    """`count` requests cycling through templates, each built when taken with a fresh event_id."""

    def __init__(self, bodies: list[bytes], count: int, prefix: bytes):
        self.templates = [Template(body) for body in bodies]
        self.count, self.prefix = count, prefix

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i: int) -> bytes:
        body = self.templates[i % len(self.templates)].body()
        return self.prefix + b"Content-Length: %d\r\n\r\n" % len(body) + body


class Generator:
    def __init__(
        self,
        requests,
        concurrency: int,
        duration: float | None,
        host: str,
        port: int,
        rate: float | None = None,
    ):
        self.requests = requests
        self.concurrency = concurrency
        self.duration = duration
        self.rate = rate
        self.t_start = 0.0  # monotonic, for pacing
        self.late_max = 0.0
        self.late_sends = 0  # paced sends that went out more than 100 ms after their slot
        self.parked: deque[Connection] = deque()  # paced: idle connections waiting for the next slot
        self.timer_armed = False
        self.host, self.port = host, port
        self.next = 0
        self.statuses: Counter = Counter()
        self.errors: Counter = Counter()
        self.latencies: list[int] = []  # ns, every answered request
        self.latencies_ok: list[int] = []
        self.per_second: Counter = Counter()
        self.per_second_ok: Counter = Counter()
        self.reconnects = 0
        self.active = 0
        self.done = asyncio.get_running_loop().create_future()
        self.t0 = 0
        self.deadline = 0.0
        self.t_last = 0
        self.connections: set[Connection] = set()
        self.last_progress = time.monotonic()

    def wait(self) -> float:
        """Seconds until the next request's slot when paced (0: send now)."""
        if not self.rate or self.next >= len(self.requests):
            return 0.0
        return self.t_start + self.next / self.rate - time.monotonic()

    def park(self, conn: Connection) -> None:
        """Paced: one timer for the next slot wakes one parked connection (not all of them)."""
        self.parked.append(conn)
        if not self.timer_armed:
            self.timer_armed = True
            asyncio.get_running_loop().call_later(max(0.0, self.wait()), self._release)

    def _release(self) -> None:
        self.timer_armed = False
        while self.parked:
            conn = self.parked.popleft()
            if not conn.closed:
                conn.send_next()  # sends, or parks again if woken a little early
                break
        if self.parked and not self.timer_armed:
            self.timer_armed = True
            asyncio.get_running_loop().call_later(max(0.0, self.wait()), self._release)

    def take(self) -> bytes | None:
        if self.next >= len(self.requests) or (self.duration and time.monotonic() >= self.deadline):
            return None
        if self.rate:
            late = time.monotonic() - (self.t_start + self.next / self.rate)
            self.late_max = max(self.late_max, late)
            self.late_sends += late > 0.1
            self.last_progress = time.monotonic()  # an idle paced connection is not a stall
        request = self.requests[self.next]
        self.next += 1
        return request

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.create_connection(lambda: Connection(self), self.host, self.port)
        except OSError as exc:
            self.errors[f"connect: {type(exc).__name__}"] += 1
            self.lost()

    def lost(self) -> None:
        """A connection ended: open another one while there is work left, within a bound."""
        self.active -= 1
        if self.next < len(self.requests) and self.reconnects < MAX_RECONNECTS and not self._expired():
            self.reconnects += 1
            self.active += 1
            asyncio.get_running_loop().call_later(0.05, lambda: asyncio.ensure_future(self.connect()))
        elif self.active <= 0 and not self.done.done():
            self.done.set_result(None)

    def _expired(self) -> bool:
        return bool(self.duration) and time.monotonic() >= self.deadline

    def record(self, status: int, started: int, ended: int) -> None:
        latency = ended - started
        self.statuses[status] += 1
        self.latencies.append(latency)
        second = (ended - self.t0) // 1_000_000_000
        self.per_second[second] += 1
        if status == 200:
            self.latencies_ok.append(latency)
            self.per_second_ok[second] += 1
        self.t_last = ended
        self.last_progress = time.monotonic()

    def watchdog(self) -> None:
        if self.done.done():
            return
        if time.monotonic() - self.last_progress > STALL_SECONDS:
            for conn in list(self.connections):
                if conn.in_flight:
                    self.errors[f"no answer within {STALL_SECONDS:.0f}s (aborted)"] += 1
                    conn.in_flight = False
                conn.closed = True
                conn.transport.abort()
            self.next = len(self.requests)  # send nothing more
            if not self.done.done():
                self.done.set_result(None)
            return
        asyncio.get_running_loop().call_later(1.0, self.watchdog)

    async def run(self) -> None:
        self.t0 = time.perf_counter_ns()
        self.t_start = time.monotonic()
        self.deadline = time.monotonic() + (self.duration or 0)
        self.active = self.concurrency
        for _ in range(self.concurrency):
            asyncio.ensure_future(self.connect())
        asyncio.get_running_loop().call_later(1.0, self.watchdog)
        await self.done


class Connection(asyncio.Protocol):
    def __init__(self, gen: Generator):
        self.gen = gen
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.started = 0
        self.in_flight = False
        self.closed = False
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.need: int | None = None  # body bytes still expected (content-length mode)
        self.chunked = False
        self.close_after = False
        self.head_done = False

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.gen.connections.add(self)
        self.send_next()

    def send_next(self) -> None:
        if self.gen.wait() > 0:
            self.gen.park(self)
            return
        request = self.gen.take()
        if request is None:
            self.closed = True
            self.transport.close()
            return
        self.in_flight = True
        self.started = time.perf_counter_ns()
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while self.in_flight and self._parse():
            ended = time.perf_counter_ns()
            self.in_flight = False
            self.gen.record(self.status, self.started, ended)
            close = self.close_after
            self._reset()
            if close:
                self.gen.errors["server closed keep-alive"] += 1
                self.closed = True
                self.transport.close()  # connection_lost() then reports it to the generator
                return
            self.send_next()

    def _parse(self) -> bool:
        """True once one whole response is in the buffer (and consumed from it)."""
        buf = self.buf
        if not self.head_done:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return False
            lines = bytes(buf[:end]).split(b"\r\n")
            del buf[: end + 4]
            self.status = int(lines[0].split(b" ", 2)[1])
            length = None
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name, value = name.strip().lower(), value.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding" and b"chunked" in value:
                    self.chunked = True
                elif name == b"connection" and value == b"close":
                    self.close_after = True
            self.need = length if length is not None else (None if self.chunked else 0)
            self.head_done = True
        if self.chunked:
            while True:
                end = buf.find(b"\r\n")
                if end < 0:
                    return False
                size = int(bytes(buf[:end]).split(b";")[0], 16)
                if size == 0:
                    trailer_end = buf.find(b"\r\n\r\n", end)
                    if trailer_end < 0:
                        return False
                    del buf[: trailer_end + 4]
                    return True
                if len(buf) < end + 2 + size + 2:
                    return False
                del buf[: end + 2 + size + 2]
        if len(buf) < self.need:
            return False
        del buf[: self.need]
        return True

    def connection_lost(self, exc) -> None:
        self.gen.connections.discard(self)
        if self.gen.done.done():
            return
        if self.closed:
            self.gen.lost()
            return
        self.closed = True
        if self.in_flight:
            self.gen.errors[f"connection lost mid-request: {type(exc).__name__ if exc else 'EOF'}"] += 1
        self.gen.lost()


def percentile(sorted_values: list[int], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, math.ceil(q / 100 * len(sorted_values)) - 1))  # nearest rank
    return sorted_values[index] / 1e6


def summarize(values: list[int]) -> dict:
    s = sorted(values)
    return {
        "n": len(s),
        "mean_ms": (sum(s) / len(s) / 1e6) if s else float("nan"),
        "p50_ms": percentile(s, 50),
        "p90_ms": percentile(s, 90),
        "p99_ms": percentile(s, 99),
        "max_ms": (s[-1] / 1e6) if s else float("nan"),
    }


async def main_async(args) -> dict:
    path = f"/api/{args.project}/envelope/"
    if args.templates:
        bodies = read_pool(Path(args.pool), args.start, args.templates)
        requests = Rekeyed(bodies, args.count, request_prefix(args.host, args.port, path, args.key))
    else:
        bodies = read_pool(Path(args.pool), args.start, args.count)
        requests = build_requests(bodies, args.host, args.port, path, args.key)
    del bodies
    gen = Generator(requests, args.concurrency, args.duration, args.host, args.port, args.rate)
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    wall0 = time.time()
    await gen.run()
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    elapsed = (gen.t_last - gen.t0) / 1e9 if gen.t_last else 0.0
    answered = sum(gen.statuses.values())
    ok = gen.statuses.get(200, 0)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    seconds = int(max(gen.per_second, default=-1)) + 1
    return {
        "concurrency": args.concurrency,
        "first_send_unix": wall0,
        "elapsed_s": elapsed,
        "sent": gen.next,
        "answered": answered,
        "ok": ok,
        "statuses": {str(k): v for k, v in sorted(gen.statuses.items())},
        "errors": dict(gen.errors),
        "reconnects": gen.reconnects,
        "answered_per_s": answered / elapsed if elapsed else 0.0,
        "accepted_per_s": ok / elapsed if elapsed else 0.0,
        "latency": summarize(gen.latencies),
        "latency_ok": summarize(gen.latencies_ok),
        "per_second": [gen.per_second.get(i, 0) for i in range(seconds)],
        "per_second_ok": [gen.per_second_ok.get(i, 0) for i in range(seconds)],
        "cpu_s": cpu,
        "cpu_user_s": r1.ru_utime - r0.ru_utime,
        "cpu_sys_s": r1.ru_stime - r0.ru_stime,
        "cpu_ms_per_request": cpu * 1000 / answered if answered else float("nan"),
        "cpu_share_of_one_core": cpu / elapsed if elapsed else float("nan"),
        "max_rss_kb": r1.ru_maxrss,
        "rate": args.rate,
        "late_sends": gen.late_sends,
        "late_max_s": gen.late_max,
        "templates": args.templates,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--project", type=int, required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--pool", required=True)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=float, default=None, help="stop sending after this many seconds")
    parser.add_argument("--rate", type=float, default=None, help="paced: at most this many requests/s")
    parser.add_argument(
        "--templates",
        type=int,
        default=0,
        help="cycle through this many bodies, each sent with a fresh event_id",
    )
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("loopback only")
    result = asyncio.run(main_async(args))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
