"""Worker CPU that alerting adds per stored event: the time buckets, the outbox and rule evaluation.

    .venv/bin/python bench/alert_rules_cost.py [--postgres] [--batches 40] [--rules 20]

On a fresh database (SQLite in a temporary DATA_DIR, or a temporary PostgreSQL database), one project
with --rules rules that all count (frequency, users, spike; with filters) stores --batches batches
of 200 events spread over 10 issues, as the ingest worker does (store_events and the outbox in one
transaction, then the outbox task). Prints CPU microseconds per event (process time of this
process plus, on PostgreSQL, nothing of the server's) for: store_events without the buckets,
store_events with them, the outbox rows, and the evaluation of all rules. Not a test: figures only.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup(postgres: bool) -> str | None:
    os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix="lighttrace-rules-cost-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.pop("REDIS_URL", None)
    name = None
    if postgres:
        import psycopg

        base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x").rsplit("/", 1)[0]
        name = f"lighttrace_rulecost_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = f"{base}/{name}"
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return name


def make_rules(project, count: int) -> None:
    from alerts import rules
    from alerts.models import AlertRule

    AlertRule.objects.filter(project=project).delete()
    conditions = [
        [{"id": rules.FREQUENCY, "value": 10_000, "interval": "5m"}],
        [{"id": rules.USERS, "value": 10_000, "interval": "1h"}],
        [{"id": rules.SPIKE, "value": 5, "interval": "15m", "floor": 100_000}],
        [{"id": rules.FIRST_SEEN}, {"id": rules.FREQUENCY, "value": 10_000, "interval": "1d"}],
    ]
    filters = [{"id": rules.LEVEL_FILTER, "match": "gte", "level": "40"},
               {"id": rules.TAG_FILTER, "key": "region", "match": "co", "value": "eu"}]  # fmt: skip
    for n in range(count):
        AlertRule.objects.create(project=project, name=f"rule {n}", conditions=conditions[n % 4], filters=filters,
                                 actions=[{"id": rules.EMAIL_ACTION, "targetType": "Team"}])  # fmt: skip


def events(batch: int, size: int = 200):
    from issues.payload import encode_event_data
    from issues.store import PreparedEvent

    now = datetime.now(UTC)
    out = []
    for n in range(size):
        when = now - timedelta(milliseconds=n)
        event_id = uuid.uuid4().hex
        out.append(PreparedEvent(
            event_id=event_id, timestamp=when, received=when, level="error", platform="python", type="error",
            title=f"ValueError: boom {n % 10}", culprit="app in f", metadata={}, release="1.0",
            environment="production", user_key=f"user-{(batch * size + n) % 500}", trace_id="",
            tags=[("level", "error"), ("region", "eu-west-1"), ("environment", "production")],
            hashes=[f"{n % 10:032d}"], config_id="newstyle:2023-01-11", data=encode_event_data({"event_id": event_id}),
        ))  # fmt: skip
    return out


def run(batches: int, rule_count: int) -> dict[str, float]:
    from django.db import transaction

    import issues.store as store
    from alerts.dispatch import record_batch
    from alerts.services import process_outbox
    from projects.services import create_project

    project, _ = create_project("bench", f"rules-{uuid.uuid4().hex[:6]}")
    make_rules(project, rule_count)
    cpu = {
        "store without buckets": 0.0,
        "store with buckets": 0.0,
        "outbox rows": 0.0,
        "rule evaluation": 0.0,
    }
    real = store.record_buckets
    stored = 0
    for batch in range(batches):
        with_buckets = batch % 2 == 0  # alternate, so both see the same table sizes
        store.record_buckets = real if with_buckets else (lambda project_id, by_issue: None)
        prepared = events(batch)
        with transaction.atomic():
            t0 = time.process_time()
            result = store.store_events(project.id, prepared)
            t1 = time.process_time()
            record_batch(project.id, result)
            t2 = time.process_time()
        t3 = time.process_time()
        process_outbox()
        t4 = time.process_time()
        cpu["store with buckets" if with_buckets else "store without buckets"] += t1 - t0
        cpu["outbox rows"] += t2 - t1
        cpu["rule evaluation"] += t4 - t3
        stored += result.stored
    store.record_buckets = real
    half = stored / 2
    return {
        "store without buckets": cpu["store without buckets"] / half * 1e6,
        "store with buckets": cpu["store with buckets"] / half * 1e6,
        "outbox rows": cpu["outbox rows"] / stored * 1e6,
        "rule evaluation": cpu["rule evaluation"] / stored * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--rules", type=int, default=20)
    args = parser.parse_args()
    name = setup(args.postgres)
    try:
        figures = run(args.batches, args.rules)
    finally:
        if name:
            from django.db import connections

            connections.close_all()
            import psycopg

            base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
            with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine = "PostgreSQL" if args.postgres else "SQLite"
    print(f"{engine}: {args.batches} batches of 200 events on 10 issues, {args.rules} counting rules; "
          "worker CPU per event (this process):")  # fmt: skip
    for label, micros in figures.items():
        print(f"  {label:22} {micros:7.1f} µs")
    print(f"  buckets add            {figures['store with buckets'] - figures['store without buckets']:7.1f} µs; "
          f"outbox + evaluation add {figures['outbox rows'] + figures['rule evaluation']:7.1f} µs")  # fmt: skip


if __name__ == "__main__":
    main()
