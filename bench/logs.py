"""Structured logs benchmark on PostgreSQL + Redis: prints figures, not a test.

    .venv/bin/python bench/logs.py                      # 200,000 records sent, 5,000,000 bulk-loaded
    .venv/bin/python bench/logs.py --send 50000 --load 500000   # a quick version

1. Ingest: `--send` records in SDK-shaped envelopes of 100 records (10 attributes each, gzip), sent by
   `--connections` keep-alive connections as fast as they are answered, while one more connection
   sends 200 error events/s beside them. Figures: records/s accepted, and records/s from the first
   send until all of them are stored and the API finds the newest; exact counts (200 answers =
   stored rows = `log_item` accepted outcome; errors answered = events counted).
2. Queries: `--load` records bulk-loaded with COPY over the last 3 days (partitions of the real
   schema, indexes built as the worker's writes would leave them), then through the API: a trace's
   records, the last 24 h filtered by level and an attribute, a rare and a common word in the body
   over 24 h; median and max of 5 runs each. Disk per record (tables, indexes, TOAST of every
   partition) is printed too.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import random
import statistics
import sys
import threading
import time
import urllib.parse
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
# The project's `logs` package, not this script (also named logs): bench/ last on the path.
sys.path = (
    [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"] + [str(ROOT / "bench")]
)

from procstats import all_procs, descendants  # noqa: E402
from stacks import Postgres, postgres_selector, redis_base  # noqa: E402

from logs.attribute_sets import set_id, split_attributes  # noqa: E402
from tests.e2e.stack import LiveStack, base_env, free_port, manage  # noqa: E402

USERS = [f"user-{n}" for n in range(5000)]
PROVIDERS = ["stripe", "adyen", "paypal", "braintree"]
LEVELS = [("info", 9)] * 14 + [("debug", 5)] * 3 + [("warn", 13)] * 2 + [("error", 17)]
WORDS = ["checkout", "inventory", "payment", "session", "catalog", "search", "shipping", "refund"]


def sdk_record(now: float, trace_id: str, n: int) -> dict:
    level, severity = random.choice(LEVELS)
    order, user = random.randint(1, 10**7), random.choice(USERS)
    word = random.choice(WORDS)

    def attr(value, kind):
        return {"value": value, "type": kind}

    return {
        "timestamp": now,
        "trace_id": trace_id,
        "span_id": uuid.uuid4().hex[:16],
        "level": level,
        "severity_number": severity,
        "body": f"{word} step {n} for order {order} by {user}",
        "attributes": {
            "sentry.message.template": attr(word + " step {n} for order {order} by {user}", "string"),
            "sentry.message.parameter.order": attr(order, "integer"),
            "sentry.release": attr("shop@2.4.1", "string"),
            "sentry.environment": attr("production", "string"),
            "sentry.sdk.name": attr("sentry.python", "string"),
            "sentry.sdk.version": attr("2.75.0", "string"),
            "server.address": attr("web-3", "string"),
            "user.id": attr(user, "string"),
            "payment.provider": attr(random.choice(PROVIDERS), "string"),
            "retry": attr(random.randint(0, 5), "integer"),
        },
    }


def log_envelope(count: int) -> bytes:
    now, trace = time.time(), uuid.uuid4().hex
    items = [sdk_record(now, trace, n) for n in range(count)]
    payload = json.dumps({"version": 2, "items": items}).encode()
    header = {"type": "log", "item_count": count, "content_type": "application/vnd.sentry.items.log+json"}
    return gzip.compress(b"{}\n" + json.dumps(header).encode() + b"\n" + payload + b"\n", 6)


def error_envelope() -> bytes:
    event_id = uuid.uuid4().hex
    event = {
        "event_id": event_id,
        "platform": "python",
        "level": "error",
        "exception": {"values": [{"type": "KeyError", "value": f"cart {random.randint(1, 10)}"}]},
    }
    lines = [json.dumps({"event_id": event_id}), '{"type":"event"}', json.dumps(event)]
    return gzip.compress(("\n".join(lines) + "\n").encode(), 6)


class Sender:
    def __init__(self, port: int, project_id: int, key: str):
        self.port, self.path = port, f"/api/{project_id}/envelope/"
        self.headers = {
            "Content-Type": "application/x-sentry-envelope",
            "Content-Encoding": "gzip",
            "X-Sentry-Auth": f"Sentry sentry_key={key}, sentry_version=7",
        }
        self.status: dict[int, int] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def send_all(self, bodies: list[bytes], pace: float = 0.0) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        start = time.monotonic()
        for i, body in enumerate(bodies):
            if self.stop.is_set():
                break
            if pace:
                time.sleep(max(0.0, start + i * pace - time.monotonic()))
            conn.request("POST", self.path, body=body, headers=self.headers)
            response = conn.getresponse()
            response.read()
            with self.lock:
                self.status[response.status] = self.status.get(response.status, 0) + 1
        conn.close()


def start_stack(pg: Postgres) -> tuple[LiveStack, str]:
    name = pg.create()
    env = base_env(Path(f"/tmp/lighttrace-bench-logs-{uuid.uuid4().hex[:6]}"), free_port())
    Path(env["DATA_DIR"]).mkdir(parents=True)
    env.update(
        DATABASE_URL=f"{pg.base}/{name}",
        REDIS_URL=f"{redis_base()}/12",
        REDIS_KEY_PREFIX=name,
        SPIKE_PROTECTION="false",
        LOG_LEVEL="WARNING",
    )
    manage(env, "migrate", "--noinput")
    stack = LiveStack(
        url=f"http://127.0.0.1:{env['PORT']}", env=env, token=manage(env, "create_api_token", "bench")
    )
    stack.start()
    return stack, name


class CpuMeter:
    """CPU seconds of LightTrace's processes (web, workers, scheduler) and of the PostgreSQL backends
    of the benchmark's database: what the stack itself spent, whatever else runs on the machine."""

    def __init__(self, stack: LiveStack, pg: Postgres, db_name: str):
        self.stack, self.select_pg = stack, postgres_selector(pg, lambda: db_name)
        self.ticks: dict[str, dict[int, int]] = {}

    def _sample(self) -> dict[str, dict[int, int]]:
        procs = all_procs()
        root = self.stack.process.pid if self.stack.process else 0
        groups = {"lighttrace": [root, *descendants(root, procs)], "postgres": self.select_pg(procs)}
        return {
            name: {pid: procs[pid].ticks for pid in pids if pid in procs} for name, pids in groups.items()
        }

    def start(self) -> None:
        self.ticks = self._sample()

    def seconds(self) -> dict[str, float]:
        """Per group since start (a process that ended meanwhile is missed: an undercount)."""
        now, hz = self._sample(), os.sysconf("SC_CLK_TCK")
        return {
            name: sum(t - self.ticks[name].get(pid, 0) for pid, t in pids.items()) / hz
            for name, pids in now.items()
        }


def ingest_phase(stack: LiveStack, records: int, connections: int, meter: CpuMeter) -> dict:
    dsn = stack.create_project("logs", org="bench")
    key, project_id = dsn.split("//")[1].split("@")[0], int(dsn.rsplit("/", 1)[1])
    envelopes = [log_envelope(100) for _ in range(records // 100)]
    # Every error its own event_id, as SDKs send them: enough for 100/s per connection at 2,000 records/s.
    errors = [[error_envelope() for _ in range(max(1000, records // 10))] for _ in range(2)]
    logs_sender, errors_sender = (
        Sender(int(stack.env["PORT"]), project_id, key),
        Sender(int(stack.env["PORT"]), project_id, key),
    )
    shares = [envelopes[i::connections] for i in range(connections)]
    threads = [threading.Thread(target=logs_sender.send_all, args=(share,)) for share in shares]
    # 200 errors/s beside the logs (two connections at 100/s) from the first send until every record
    # is stored, so they compete with the logs for the web, the workers and the database throughout.
    error_threads = [
        threading.Thread(target=errors_sender.send_all, args=(share, 1 / 100)) for share in errors
    ]
    meter.start()
    started = time.monotonic()
    for thread in threads + error_threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent_seconds = time.monotonic() - started
    accepted = logs_sender.status.get(200, 0) * 100

    def stored() -> int:
        return stack.sql("SELECT count(*) FROM logs_record")[0][0]

    stack.wait_for(lambda: stored() >= accepted, timeout=900, what="all records stored")
    errors_sender.stop.set()
    for thread in error_threads:
        thread.join()
    newest = stack.api("/api/0/projects/bench/logs/logs/?statsPeriod=1h&per_page=1")
    stored_seconds = time.monotonic() - started
    cpu = meter.seconds()
    errors_answered = sum(errors_sender.status.values())
    errors_200 = errors_sender.status.get(200, 0)

    def counted() -> int:
        return stack.sql("SELECT COALESCE(SUM(times_seen), 0) FROM issues_issue")[0][0]

    stack.wait_for(lambda: counted() >= errors_200, timeout=300, what="all errors counted")
    outcome = stack.sql(
        "SELECT COALESCE(SUM(quantity), 0) FROM usage_outcome WHERE category='log_item' AND outcome='accepted'"
    )[0][0]
    return {
        "records_sent": len(envelopes) * 100,
        "records_accepted_200": accepted,
        "log_statuses": logs_sender.status,
        "accepted_per_s": accepted / sent_seconds,
        "stored_per_s": accepted / stored_seconds,
        "stored": stored(),
        "log_item_outcome": outcome,
        "api_found_newest": bool(newest),
        "errors_answered": errors_answered,
        "errors_200": errors_sender.status.get(200, 0),
        "errors_per_s": errors_answered / stored_seconds,
        "errors_counted": counted(),
        # CPU the stack spent per log record (the errors beside them included): on a machine of its
        # own with 2 cores, 2 s / this is the records/s the CPU allows.
        "cpu_us_per_record": {k: round(v / max(1, accepted) * 1e6, 1) for k, v in cpu.items()},
    }


def bulk_load(stack: LiveStack, count: int) -> dict:
    """COPY `count` records spread over the last 3 days into one project (the benchmark's project)."""
    project_id = stack.sql("SELECT id FROM projects_project WHERE slug = 'logs'")[0][0]
    now = datetime.now(UTC)
    with psycopg.connect(stack.env["DATABASE_URL"], autocommit=True) as conn:
        for day in range(-4, 2):
            start = datetime.combine((now + timedelta(days=day)).date(), datetime.min.time(), UTC)
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS logs_record_p{start:%Y%m%d} PARTITION OF logs_record "
                f"FOR VALUES FROM ('{start.isoformat()}') TO ('{(start + timedelta(days=1)).isoformat()}')"
            )
        began = time.monotonic()
        traces, sets = [], {}
        with (
            conn.cursor() as cursor,
            cursor.copy(
                "COPY logs_record (id, project_id, timestamp, trace_id, span_id, level, severity_number, body, attributes, "
                "user_id, attribute_set_id, parameters) FROM STDIN"
            ) as copy,
        ):
            # In time order, as the workers write them (records arrive about when they happen): the
            # B-trees fill their pages as in production rather than splitting at random places.
            moments = sorted(now - timedelta(seconds=random.random() * 3 * 86400) for _ in range(count))
            for n, moment in enumerate(moments):
                if n % 20 == 0:
                    trace = uuid.uuid4().hex
                    if n % 100_000 == 0:
                        traces.append(trace)
                record = sdk_record(0, trace, n % 20)
                attributes = {k: v["value"] for k, v in record["attributes"].items()}
                shared, own, parameters = split_attributes(attributes)  # as the store writes them
                sets[set_id(shared)] = shared
                copy.write_row(
                    (uuid.uuid4(), project_id, moment, trace, bytes.fromhex(record["span_id"]), record["level"],
                     record["severity_number"], record["body"], json.dumps(own), attributes["user.id"], set_id(shared), json.dumps(parameters))
                )  # fmt: skip
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO logs_record_attribute_set (id, attributes) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                [(key, json.dumps(value)) for key, value in sets.items()],
            )
        conn.execute("ANALYZE logs_record")
        load_seconds = time.monotonic() - began
        size = (
            conn.execute(
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'logs_record'"
            ).fetchone()[0]
            + conn.execute("SELECT pg_total_relation_size('logs_record_attribute_set')").fetchone()[0]
        )
        rows = conn.execute("SELECT count(*) FROM logs_record").fetchone()[0]
        where_bytes = disk_breakdown(conn, rows)
    return {
        "where_bytes": where_bytes,
        "loaded": count,
        "load_seconds": load_seconds,
        "rows": rows,
        "bytes_per_record": size / rows,
        "traces": traces,
    }


def disk_breakdown(conn: psycopg.Connection, rows: int) -> dict[str, float]:
    """Bytes per record of the heap, its TOAST, each index (summed over partitions), and the average
    stored size of the widest columns: where the disk goes."""
    parts = (
        "SELECT c.oid FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'logs_record'"
    )
    figures = {
        "heap": conn.execute(f"SELECT sum(pg_relation_size(oid)) FROM ({parts}) t").fetchone()[0],
        "toast": conn.execute(
            f"SELECT sum(pg_total_relation_size(c.reltoastrelid)) FROM pg_class c WHERE c.oid IN ({parts}) "
            "AND c.reltoastrelid <> 0"
        ).fetchone()[0]
        or 0,
        "attribute sets": conn.execute(
            "SELECT pg_total_relation_size('logs_record_attribute_set')"
        ).fetchone()[0],
    }
    for name, size in conn.execute(
        "SELECT regexp_replace(ci.relname, '^logs_record_p[0-9]+_', ''), sum(pg_relation_size(x.indexrelid)) "
        f"FROM pg_index x JOIN pg_class ci ON ci.oid = x.indexrelid WHERE x.indrelid IN ({parts}) GROUP BY 1"
    ):
        figures[f"index {name}"] = size
    per_record = {name: float(size) / max(1, rows) for name, size in figures.items()}
    # The record's own attributes: those every record repeats are in its attribute set.
    columns = conn.execute(
        "SELECT avg(pg_column_size(attributes)), avg(pg_column_size(body)), avg(pg_column_size(r.*)) "
        "FROM (SELECT * FROM logs_record TABLESAMPLE SYSTEM (1)) r"
    ).fetchone()
    per_record.update({"column attributes": columns[0], "column body": columns[1], "whole row": columns[2]})
    return {name: round(float(value or 0), 1) for name, value in per_record.items()}


def timed_api(stack: LiveStack, query: str, period: str, runs: int = 5) -> dict:
    params = urllib.parse.urlencode({"query": query, "statsPeriod": period})
    times, found = [], 0
    for _ in range(runs):
        began = time.perf_counter()
        found = len(stack.api(f"/api/0/projects/bench/logs/logs/?{params}"))
        times.append((time.perf_counter() - began) * 1000)
    return {"median_ms": statistics.median(times), "max_ms": max(times), "records": found}


def query_phase(stack: LiveStack, traces: list[str]) -> dict:
    # One request to each web process first: the first one a process answers loads the API's modules.
    for _ in range(4):
        stack.api("/api/0/projects/bench/logs/logs/?statsPeriod=15m&per_page=1")
    return {
        "trace (7d)": timed_api(stack, f"trace:{traces[len(traces) // 2]}", "7d"),
        "level:error payment.provider:adyen (24h)": timed_api(
            stack, "level:error payment.provider:adyen", "24h"
        ),
        "level:warn retry:>3 (24h)": timed_api(stack, "level:warn retry:>3", "24h"),
        "user.id:user-4242 (24h)": timed_api(stack, "user.id:user-4242", "24h"),
        # A shared attribute (in the records' attribute set) and a template parameter (not indexed):
        "level:error release:shop@2.4.1 (24h)": timed_api(stack, "level:error release:shop@2.4.1", "24h"),
        "sentry.message.parameter.order:4242424 (24h)": timed_api(
            stack, "sentry.message.parameter.order:4242424", "24h"
        ),
        "rare word in body: 'order 4242424' (24h)": timed_api(stack, '"order 4242424"', "24h"),
        "common word in body: refund (24h)": timed_api(stack, "refund", "24h"),
        "missing word in body: zebra (24h)": timed_api(stack, "zebra", "24h"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--send", type=int, default=200_000, help="records sent through the SDK endpoint")
    parser.add_argument(
        "--load", type=int, default=5_000_000, help="records bulk-loaded for the queries (0: ingest only)"
    )
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    random.seed(1)
    pg = Postgres()
    stack, db_name = start_stack(pg)
    try:
        ingest = ingest_phase(stack, args.send, args.connections, CpuMeter(stack, pg, db_name))
        print(json.dumps(ingest, indent=2, default=int))
        print(f"load average (1, 5, 15 min): {os.getloadavg()}")
        print(f"ingest: {ingest['accepted_per_s']:.0f} records/s accepted, {ingest['stored_per_s']:.0f} records/s "
              f"stored (target >= 5,000), with {ingest['errors_per_s']:.0f} errors/s beside them")  # fmt: skip
        cpu = ingest["cpu_us_per_record"]
        print(f"CPU per log record: LightTrace {cpu['lighttrace']} us + PostgreSQL {cpu['postgres']} us; "
              f"2 cores alone would allow {2e6 / max(1.0, sum(cpu.values())):.0f} records/s")  # fmt: skip
        if not args.load:
            return  # --load 0: the ingest figures only
        loaded = bulk_load(stack, args.load)
        print(f"bulk load: {loaded['rows']:,} rows in {loaded['load_seconds']:.0f} s; "
              f"{loaded['bytes_per_record']:.0f} bytes per record with indexes (target <= 512)")  # fmt: skip
        print(f"load average before the queries (1, 5, 15 min): {os.getloadavg()}")
        print("  bytes per record: " + ", ".join(f"{k} {v}" for k, v in loaded["where_bytes"].items()))
        for name, figures in query_phase(stack, loaded["traces"]).items():
            print(
                f"  {name:45s} median {figures['median_ms']:7.1f} ms  max {figures['max_ms']:7.1f} ms  ({figures['records']} records)"
            )
    finally:
        stack.stop()
        pg.drop_all()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
