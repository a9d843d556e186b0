"""What linking user reports costs the batch writer (prints figures; not a test).

    .venv/bin/python bench/bench_feedback.py [--reports 20000] [--waiting 200] [--batches 30]
    DATABASE_URL=postgres://.../scratch_db .venv/bin/python bench/bench_feedback.py   # an EMPTY scratch database

Without DATABASE_URL it runs on a fresh SQLite file in a temporary DATA_DIR (the embedded default).
With --reports reports stored in the project linked to an issue and --waiting more still waiting for
an event that never comes, it times store_events on batches of 200 new events with and without
feedback/store.link_reports (the one query per batch that looks for waiting reports), alternating,
and that probe alone.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="lighttrace-bench-feedback-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

import issues.store as store  # noqa: E402
from feedback.store import link_reports, write_reports  # noqa: E402
from issues.models import Issue  # noqa: E402
from issues.user_reports import store_user_reports  # noqa: E402
from projects.services import create_project  # noqa: E402
from tests.factories import prepared_event, prepared_report  # noqa: E402


def batch(size: int = 200):
    return [prepared_event(hashes=[f"{n % 20:032x}"]) for n in range(size)]


def timed_batch(project_id: int, linking: bool) -> float:
    events = batch()
    store.link_reports = link_reports if linking else (lambda *args: None)  # type: ignore[assignment]
    start = time.perf_counter()
    with transaction.atomic():
        store.store_events(project_id, events)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=20000)
    parser.add_argument("--waiting", type=int, default=200)
    parser.add_argument("--batches", type=int, default=30)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    project, _ = create_project("bench", "feedback")
    timed_batch(project.id, True)  # warm up: issues and grouping hashes exist from here on
    issue_id = Issue.objects.filter(project=project).values_list("pk", flat=True).first()
    for _ in range(0, args.reports, 1000):
        linked = [prepared_report(uuid.uuid4().hex) for _ in range(1000)]
        with transaction.atomic():
            write_reports(project.id, linked, {r.event_id: issue_id for r in linked})
    with transaction.atomic():
        store_user_reports(project.id, [prepared_report(uuid.uuid4().hex) for _ in range(args.waiting)])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE feedback_userreport")
    runs: dict[bool, list[float]] = {True: [], False: []}
    for n in range(args.batches * 2):
        runs[n % 2 == 0].append(timed_batch(project.id, n % 2 == 0))
    ids = {uuid.uuid4().hex: 1 for _ in range(200)}
    alone = []
    for _ in range(args.batches):
        start = time.perf_counter()
        with transaction.atomic():
            link_reports(project.id, ids)
        alone.append((time.perf_counter() - start) * 1000)
    print(
        f"{connection.vendor}, {args.reports} reports linked and {args.waiting} waiting, "
        f"batches of 200 events, {args.batches} each:"
    )
    for linking in (False, True):
        label = "with link_reports   " if linking else "without link_reports"
        print(f"  store_events {label}: median {statistics.median(runs[linking]):.1f} ms")
    print(
        f"  link_reports alone (200 event ids, none of them waiting): median {statistics.median(alone):.2f} ms"
    )


if __name__ == "__main__":
    main()
