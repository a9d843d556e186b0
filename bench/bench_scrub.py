"""Benchmark of ingest.protocol.scrub: prints microseconds per scrub_event call.

    .venv/bin/python bench/bench_scrub.py [--rounds N]

Events:
  * scope_enrichment  - the event item of tests/fixtures/sdk/sentry.python-2.75.0/scope_enrichment.envelope
  * synthetic         - 15 frames x 5 vars (repr strings, dicts), 20 breadcrumbs, request, tags, contexts
  * synthetic+secrets - the synthetic event with a few secrets to replace (exercises the slow paths)

Each round scrubs a fresh copy (orjson round trip, not timed) because scrub_event works in place;
copies are made one at a time so the heap stays the size a worker's would be.  Each copy gets its own
event id, timestamps, trace/span ids and object addresses, like successive events of one application.

"warm" is the steady state of a worker: the scrubber remembers strings it has already found clean
(source lines, SQL templates, reprs recur from event to event).  "cold" empties that memory before
every round: the figure for an event whose every string is new.
"""

from __future__ import annotations

import argparse
import itertools
import pathlib
import statistics
import sys
import time

import orjson

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.protocol.scrub import DEFAULT_SCRUB_CONFIG, scrub_event  # noqa: E402
from ingest.protocol.scrub.keys import classifier_for  # noqa: E402

FIXTURE = ROOT / "tests/fixtures/sdk/sentry.python-2.75.0/scope_enrichment.envelope"


def fixture_event(path: pathlib.Path) -> dict:
    """The event item of a captured envelope, with tags as [key, value] pairs (the normalised
    shape scrub_event receives on the worker)."""
    lines = path.read_bytes().split(b"\n")
    for i, line in enumerate(lines):
        if line.startswith(b"{") and b'"type":"event"' in line and i + 1 < len(lines):
            event = orjson.loads(lines[i + 1])
            if isinstance(event.get("tags"), dict):
                event["tags"] = [[k, v] for k, v in event["tags"].items()]
            return event
    raise SystemExit(f"no event item in {path}")


def synthetic_event(with_secrets: bool = False) -> dict:
    frames = []
    for f in range(15):
        frames.append(
            {
                "filename": f"app/services/module_{f}.py",
                "abs_path": f"/srv/app/app/services/module_{f}.py",
                "function": f"handle_step_{f}",
                "module": f"app.services.module_{f}",
                "lineno": 40 + f,
                "pre_context": [f"    line {i} = compute(x, y)" for i in range(5)],
                "context_line": "    result = self.client.post(url, json=payload)",
                "post_context": [f"    return result_{i}" for i in range(5)],
                "in_app": f % 3 != 0,
                "vars": {
                    "self": f"<app.services.module_{f}.Handler object at 0x7f3a2c{f:04x}>",
                    "order_id": f"'ord_{4000 + f}'",
                    "payload": {"sku": "A-1", "qty": 3, "note": "'gift wrap please'"},
                    "url": "'https://api.example.com/v1/orders?expand=items&page=2'",
                    "retries": str(f),
                },
            }
        )
    crumbs = []
    for b in range(20):
        if b % 2:
            crumbs.append(
                {
                    "type": "http",
                    "category": "httplib",
                    "data": {
                        "url": f"https://api.example.com/v1/items/{b}",
                        "method": "GET",
                        "status_code": 200,
                    },
                    "timestamp": f"2026-11-24T11:53:31.{594000 + b}Z",
                }
            )
        else:
            crumbs.append(
                {
                    "type": "default",
                    "category": "query",
                    "message": "SELECT id, name FROM orders WHERE customer_id = %s AND status = %s",
                    "level": "info",
                    "data": {"params": ["cus_81", "open"]},
                    "timestamp": f"2026-11-24T11:53:31.{594000 + b}Z",
                }
            )
    event = {
        "event_id": "17aed78e04034c738638b75727909643",
        "timestamp": "2026-11-24T11:53:31.595096Z",
        "platform": "python",
        "level": "error",
        "release": "checkout@1.4.2",
        "environment": "production",
        "server_name": "web-7",
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": "unsupported operand type(s) for +: 'float' and 'NoneType'",
                    "mechanism": {"type": "generic", "handled": True},
                    "stacktrace": {"frames": frames},
                }
            ]
        },
        "breadcrumbs": {"values": crumbs},
        "request": {
            "url": "https://shop.example.com/checkout",
            "method": "POST",
            "query_string": "step=2&lang=en",
            "headers": [
                ["Host", "shop.example.com"],
                ["User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"],
                ["Accept", "text/html,application/xhtml+xml"],
                ["Content-Type", "application/json"],
            ],
            "env": {"SERVER_NAME": "web-7", "SERVER_PORT": "443"},
        },
        "user": {"id": "42", "email": "jane@example.com", "username": "jane"},
        "tags": [["customer.plan", "enterprise"], ["region", "eu-west-1"], ["handler", "checkout"]],
        "contexts": {
            "trace": {"trace_id": "acdf796d693f4b2eade9d9733e7ce842", "span_id": "96da8f89d0949a45"},
            "runtime": {"name": "CPython", "version": "3.11.7"},
            "os": {"name": "Linux", "version": "6.1.0"},
        },
        "extra": {"sys.argv": ["/srv/app/manage.py", "runserver"]},
        "modules": {"django": "5.2", "sentry-sdk": "2.75.0", "requests": "2.32.0"},
        "sdk": {"name": "sentry.python", "version": "2.75.0", "integrations": ["django", "logging"]},
    }
    if with_secrets:
        event["request"]["headers"].append(["Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc"])
        event["request"]["headers"].append(["Cookie", "sessionid=s3cr3t; theme=dark"])
        frames[3]["vars"]["password"] = "'hunter2'"
        frames[4]["vars"]["cfg"] = "{'api_key': 'sk_live_123', 'host': 'db'}"
        crumbs[5]["data"]["url"] = "https://user:pw@api.example.com/v1/items/5?token=abc"
        event["extra"]["card"] = "paid with 4111 1111 1111 1111"
    return event


_UNIQUE_KEYS = {"event_id", "timestamp", "trace_id", "span_id", "parent_span_id"}
_counter = itertools.count(1)


def vary(event: dict) -> dict:
    """Give this copy its own ids, timestamps and object addresses (not timed)."""
    n = next(_counter)
    stack: list = [event]
    while stack:
        obj = stack.pop()
        items = list(obj.items()) if isinstance(obj, dict) else list(enumerate(obj))
        for k, v in items:
            if isinstance(v, dict | list):
                stack.append(v)
            elif isinstance(v, str):
                if k in _UNIQUE_KEYS:
                    obj[k] = (
                        f"{n:08x}{v[8:]}"
                        if k != "timestamp"
                        else f"2026-11-24T11:{n % 60:02d}:{n % 59:02d}.{n % 999999:06d}Z"
                    )
                elif " at 0x" in v:
                    obj[k] = v.split(" at 0x")[0] + f" at 0x7f{n:010x}>"
    return event


def bench(name: str, event: dict, rounds: int, cold: bool) -> None:
    raw = orjson.dumps(event)
    clean = classifier_for(DEFAULT_SCRUB_CONFIG).clean
    for _ in range(min(200, rounds)):  # warm-up (also fills the key memo)
        scrub_event(vary(orjson.loads(raw)))
    times = []
    for _ in range(rounds):
        ev = vary(orjson.loads(raw))  # fresh copy, not timed; one at a time like the worker
        if cold:
            clean.clear()
        t0 = time.perf_counter_ns()
        scrub_event(ev)
        times.append(time.perf_counter_ns() - t0)
    times.sort()
    mean = statistics.fmean(times) / 1000
    median = times[len(times) // 2] / 1000
    p95 = times[int(len(times) * 0.95)] / 1000
    label = f"{name} ({'cold' if cold else 'warm'})"
    print(f"{label:<26} {len(raw):>7} B   mean {mean:7.1f} us   median {median:7.1f} us   p95 {p95:7.1f} us")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5000)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {args.rounds} rounds each")
    for cold in (False, True):
        bench("scope_enrichment", fixture_event(FIXTURE), args.rounds, cold)
        bench("synthetic", synthetic_event(), args.rounds, cold)
        bench("synthetic+secrets", synthetic_event(with_secrets=True), args.rounds, cold)


if __name__ == "__main__":
    main()
