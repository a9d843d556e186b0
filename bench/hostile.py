"""Hostile traffic for the ingest benchmark (run by bench/run.py as its own process): malformed and
oversized requests, each of which LightTrace must refuse with a 4xx without keeping the memory.

    python bench/hostile.py --port P --project 1 --key KEY --count 300 --concurrency 8

Kinds, sent round robin (every body is built once, before the clock starts):

  declared_too_large   Content-Length of 21 MiB (over INGEST_MAX_COMPRESSED_BYTES), body sent whole
  chunked_too_large    25 MiB with Transfer-Encoding: chunked (no Content-Length), as Node's SDK sends
  garbage_gzip         19 MiB of random bytes declared as gzip
  garbage_plain        19 MiB of bytes that are no envelope (an unterminated JSON header line)
  gzip_bomb            200 KB of gzip that inflates to 200 MiB (over INGEST_MAX_ENVELOPE_BYTES)
  event_too_large      an envelope whose event item is 5 MiB (over INGEST_MAX_EVENT_BYTES)
  deep_json            an event of 200,000 nested lists
  bad_framing          an item header whose length runs past the end of the body

Prints one JSON object: status counts per kind, connection errors per kind, seconds.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import sys
import threading
import time
from collections import Counter
from itertools import cycle
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from payload import http_headers  # noqa: E402

MIB = 1024 * 1024


def _envelope(item_header: dict, payload: bytes) -> bytes:
    return b"{}\n" + json.dumps(item_header).encode() + b"\n" + payload + b"\n"


def build_kinds() -> dict[str, tuple[dict[str, str], bytes, bool]]:
    """kind -> (extra headers, body, chunked)."""
    random_19 = os.urandom(19 * MIB)
    bomb = gzip.compress(b"\0" * (200 * MIB), 9)
    big_event = b'{"message":"' + b"x" * (5 * MIB) + b'"}'
    deep = b"[" * 200_000 + b"]" * 200_000
    return {
        "declared_too_large": ({}, b"{}\n" + b"a" * (21 * MIB), False),
        "chunked_too_large": ({}, b"{}\n" + b"a" * (25 * MIB), True),
        "garbage_gzip": ({"Content-Encoding": "gzip"}, random_19, False),
        "garbage_plain": ({}, b'{"event_id": "' + b"a" * (19 * MIB), False),
        "gzip_bomb": ({"Content-Encoding": "gzip"}, bomb, False),
        "event_too_large": ({}, _envelope({"type": "event"}, big_event), False),
        "deep_json": ({}, _envelope({"type": "event"}, b'{"extra": ' + deep + b"}"), False),
        "bad_framing": ({}, b'{}\n{"type":"event","length":999999}\n{"message":"short"}\n', False),
    }


def _chunks(body: bytes, size: int = 256 * 1024):
    for start in range(0, len(body), size):
        yield body[start : start + size]


def send(port: int, path: str, headers: dict[str, str], body: bytes, chunked: bool) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        if chunked:
            conn.request("POST", path, body=_chunks(body), headers=headers, encode_chunked=True)
        else:
            conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--project", type=int, required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--kinds", default="", help="comma-separated kinds to send (default: all)")
    args = parser.parse_args()
    kinds = build_kinds()
    if args.kinds:
        kinds = {name: kinds[name] for name in args.kinds.split(",")}
    base = {k: v for k, v in http_headers(args.key).items() if k.lower() != "content-encoding"}
    path = f"/api/{args.project}/envelope/"
    plan = iter([name for name, _ in zip(cycle(kinds), range(args.count), strict=False)])
    lock = threading.Lock()
    statuses: dict[str, Counter] = {name: Counter() for name in kinds}
    errors: dict[str, Counter] = {name: Counter() for name in kinds}

    def run() -> None:
        while True:
            with lock:
                name = next(plan, None)
            if name is None:
                return
            extra, body, chunked = kinds[name]
            try:
                status = str(send(args.port, path, {**base, **extra}, body, chunked))
                with lock:
                    statuses[name][status] += 1
            except (OSError, http.client.HTTPException) as exc:
                # The server may answer 413 and close before it has read the whole body.
                with lock:
                    errors[name][type(exc).__name__] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=run) for _ in range(args.concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({"seconds": round(time.monotonic() - started, 1),
                      "statuses": {k: dict(v) for k, v in statuses.items()},
                      "errors": {k: dict(v) for k, v in errors.items() if v}}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
