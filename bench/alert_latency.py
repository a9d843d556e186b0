"""Alert latency: the real Python SDK sends a new error -> the alert mail is in a real SMTP server.

    .venv/bin/python bench/alert_latency.py [--alerts 20] [--rate 500] [--modes postgres,embedded]

Per mode (PostgreSQL + Redis + Celery, and the embedded default), on a fresh live stack
(tests/e2e/alert_stack.py: `manage.py serve`, aiosmtpd on 127.0.0.1): while background threads send
--rate events/s of other traffic (SDK-shaped envelopes of 10 recurring errors, bench/payload.py) to
another project, the SDK sends --alerts new errors, one at a time at random intervals, each with a
fingerprint of its own; the default rule mails the team (alice and bob). Latency is from just before
`capture_exception` to the arrival of the first (and of the last) of its mails at the SMTP server.
Prints p50/p95/max per mode and the background rate achieved. Not a test: figures only.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import random
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from payload import build_event, envelope_bytes, http_headers  # noqa: E402

from tests.alert_servers import SmtpServer  # noqa: E402
from tests.e2e.alert_stack import ORG, alert_stack  # noqa: E402
from tests.e2e.stack import manage  # noqa: E402

PROBE_TIMEOUT = 30.0


class Background:
    """`rate` events/s over keep-alive connections from a few threads, paced by a shared schedule."""

    def __init__(self, port: int, project_id: int, key: str, rate: int, threads: int = 24) -> None:
        self.port, self.project_id, self.key, self.rate = port, project_id, key, rate
        self.headers = http_headers(key)
        self.stop = threading.Event()
        self.sent = self.ok = 0
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._run, args=(n, threads), daemon=True) for n in range(threads)
        ]
        self.started = 0.0

    def __enter__(self) -> Background:
        self.started = time.monotonic()
        if not self.rate:  # --rate 0: no background traffic
            self.threads = []
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=10)
        self.elapsed = time.monotonic() - self.started

    def _run(self, index: int, count: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        seq = index
        while not self.stop.is_set():
            due = self.started + seq / self.rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            _, header, event = build_event(seq % 10, seq, self.key, seed=7)
            body = gzip.compress(envelope_bytes(header, event)[0], 1)
            try:
                conn.request("POST", f"/api/{self.project_id}/envelope/", body=body, headers=self.headers)
                response = conn.getresponse()
                response.read()
                good = response.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                good = False
            with self.lock:
                self.sent += 1
                self.ok += good
            seq += count


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def measure(mode: str, alerts: int, rate: int) -> dict:
    import sentry_sdk

    with tempfile.TemporaryDirectory(prefix="lighttrace-alert-bench-") as work, SmtpServer() as smtp:
        arrivals: dict[str, list[float]] = {}
        original = smtp.sink.handle_DATA

        async def timed(server, session, envelope):
            answer = await original(server, session, envelope)
            marker = envelope.content.split(b"latency probe ", 1)[-1][:8].decode(errors="replace")
            arrivals.setdefault(marker, []).append(time.time())
            return answer

        smtp.sink.handle_DATA = timed  # type: ignore[method-assign]
        extra = {"ALERTS_MAX_PER_PROJECT_PER_HOUR": "0"}
        with alert_stack(mode, Path(work) / "data", smtp.port, extra) as (stack, dsn):
            noise_dsn = manage(stack.env, "create_project", ORG, "noise", "--platform", "python")
            parts = urllib.parse.urlsplit(noise_dsn)
            sentry_sdk.init(dsn=dsn, release="bench@1", environment="bench")
            first, last = [], []
            sent_at: dict[str, float] = {}
            with Background(
                stack.env and int(stack.url.rsplit(":", 1)[1]),
                int(parts.path.strip("/")),
                parts.username or "",
                rate,
            ) as noise:
                time.sleep(3)  # traffic flowing before the first probe
                for n in range(alerts):
                    marker = f"{n:04d}-{random.randint(1000, 9999)}"
                    sent = time.time()
                    sent_at[marker[:8]] = sent
                    with sentry_sdk.new_scope() as scope:
                        scope.fingerprint = [f"probe-{marker}"]
                        try:
                            raise RuntimeError(f"latency probe {marker}")
                        except RuntimeError:
                            sentry_sdk.capture_exception()
                    deadline = time.monotonic() + PROBE_TIMEOUT
                    while len(arrivals.get(marker[:8], [])) < 2 and time.monotonic() < deadline:
                        time.sleep(0.01)
                    got = arrivals.get(marker[:8], [])
                    if len(got) < 2:
                        print(
                            f"  {mode}: probe {marker} got {len(got)} of 2 mails within {PROBE_TIMEOUT:.0f} s",
                            flush=True,
                        )
                        continue
                    first.append(min(got) - sent)
                    last.append(max(got) - sent)
                    time.sleep(random.uniform(0.5, 1.5))
            sentry_sdk.flush(timeout=5)
            stages = _stages(stack, mode, sent_at, arrivals)
        return {"stages": stages, "first": first, "last": last, "noise_rate": noise.ok / noise.elapsed, "noise_sent": noise.sent,
                "noise_ok": noise.ok}  # fmt: skip


STAGES_SQL = (
    "SELECT i.title, o.created, f.created FROM alerts_alertoutbox o JOIN issues_issue i ON i.id = o.issue_id "
    "JOIN alerts_alertfire f ON f.issue_id = i.id WHERE o.is_new AND i.title LIKE %s"
)


def _stages(stack, mode: str, sent_at: dict[str, float], arrivals: dict[str, list[float]]) -> dict:
    """Where each probe's time went, from the stack's own timestamps: SDK -> stored (the outbox row,
    written in the batch transaction), stored -> evaluated (the fire), evaluated -> first mail."""
    from datetime import UTC, datetime

    if mode == "postgres":
        rows = stack.sql(STAGES_SQL, ("RuntimeError: latency probe %",))
    else:
        import sqlite3

        with sqlite3.connect(Path(stack.env["DATA_DIR"]) / "lighttrace.sqlite3") as db:
            rows = db.execute(STAGES_SQL.replace("%s", "?"), ("RuntimeError: latency probe %",)).fetchall()

    def seconds(value) -> float:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()

    stages: dict[str, list[float]] = {"stored": [], "evaluated": [], "delivered": []}
    for title, stored, fired in rows:
        marker = title.split("latency probe ", 1)[-1][:8]
        if marker not in sent_at or not arrivals.get(marker):
            continue
        stages["stored"].append(seconds(stored) - sent_at[marker])
        stages["evaluated"].append(seconds(fired) - seconds(stored))
        stages["delivered"].append(min(arrivals[marker]) - seconds(fired))
    return stages


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--alerts", type=int, default=20)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--modes", default="postgres,embedded")
    args = parser.parse_args()
    print(f"alert latency, SDK capture -> mail at the SMTP server; {args.alerts} alerts per mode, "
          f"background {args.rate} events/s requested", flush=True)  # fmt: skip
    for mode in args.modes.split(","):
        result = measure(mode, args.alerts, args.rate)
        first, last = result["first"], result["last"]
        if not first:
            print(f"{mode:9} no alert arrived")
            continue
        print(
            f"{mode:9} {len(first)}/{args.alerts} alerts  first mail p50 {percentile(first, 0.5) * 1000:.0f} ms  "
            f"p95 {percentile(first, 0.95) * 1000:.0f} ms  max {max(first) * 1000:.0f} ms  |  both mails p50 "
            f"{percentile(last, 0.5) * 1000:.0f} ms  p95 {percentile(last, 0.95) * 1000:.0f} ms  |  background "
            f"{result['noise_rate']:.0f} events/s answered 200 ({result['noise_ok']} of {result['noise_sent']})",
            flush=True,
        )
        stages = result["stages"]
        if stages["stored"]:
            print("          where it went (p50 / p95 ms): " + ", ".join(
                f"{name} {percentile(v, 0.5) * 1000:.0f} / {percentile(v, 0.95) * 1000:.0f}"
                for name, v in stages.items()
            ) + "  (SDK -> stored in the batch transaction, -> rule evaluated, -> first mail)", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
