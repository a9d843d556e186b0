"""What recording releases costs the batch writer: prints ms per stored batch with and without releases.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/bench_releases.py
    DATA_DIR=$(mktemp -d) .venv/bin/python bench/bench_releases.py          # embedded default (SQLite)

Creates a throwaway test database (Django's test-database machinery), then stores batches of 200
events (10 issues, 2 releases, 1 environment; events of existing issues, as in steady state) through
issues.store.store_events, alternating a batch whose events name releases and an environment with one
whose events name neither, and prints the median time per batch of each and their difference: what
releases/ingest.py adds to every batch (on a busy machine the difference is within the noise).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402


def batch(prepared_event, release_names: tuple[str, ...]) -> list:
    """200 events; without release names they name no environment either (nothing to record)."""
    events = [
        prepared_event(hashes=[f"{n % 10:032d}"], release=release_names[n % len(release_names)], seconds=n)
        for n in range(200)
    ]
    for event in events:
        event.environment = "production" if event.release else ""
    return events


def _record_alone(project_id: int, prepared_event, rounds: int) -> tuple[list[float], dict[str, list[float]]]:
    """The releases step by itself, each time in a transaction of its own that has already begun
    (as the writer's has) and without its commit (the writer's batch commits once anyway): less
    noise than the difference of two whole batches. Also times each statement, and a bare
    `SELECT 1` as the machine's round trip."""
    from django.db import connection, transaction

    from core.sql import fetch
    from releases.ingest import record_releases

    statements: dict[str, list[float]] = {}

    def timed(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.setdefault(" ".join(sql.split()[:3])[:40], []).append(
                (time.perf_counter() - start) * 1000
            )

    timings = []
    for _ in range(rounds):
        events = batch(prepared_event, ("shop@1.0", "shop@1.1"))
        with transaction.atomic(), connection.execute_wrapper(timed):
            fetch("SELECT 1")
            fetch("SELECT 1")  # the first one also began the transaction
            start = time.perf_counter()
            record_releases(project_id, events, events[:1])
            timings.append((time.perf_counter() - start) * 1000)
    return timings, statements


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from factories import prepared_event

        from issues.store import store_events
        from projects.services import create_project

        project, _ = create_project("bench", "releases")
        store_events(project.id, batch(prepared_event, ("shop@1.0", "shop@1.1")))  # issues and releases exist
        timings: dict[str, list[float]] = {"with releases": [], "without": []}
        for _ in range(args.rounds):
            for label, names in (("with releases", ("shop@1.0", "shop@1.1")), ("without", ("",))):
                events = batch(prepared_event, names)
                start = time.perf_counter()
                store_events(project.id, events)
                timings[label].append((time.perf_counter() - start) * 1000)
        timings["record_releases alone"], statements = _record_alone(project.id, prepared_event, args.rounds)
        medians = {label: statistics.median(values) for label, values in timings.items()}
        print(f"{connection.vendor}, {args.rounds} rounds of 200-event batches:")
        for label, value in medians.items():
            print(f"  {label:22} {value:7.2f} ms per batch")
        extra = medians["with releases"] - medians["without"]
        print(f"  difference             {extra:7.2f} ms per batch ({extra * 1000 / 200:.1f} µs per event)")
        print("  median per statement (SELECT 1: the round trip on this machine now):")
        for sql, values in statements.items():
            print(f"    {statistics.median(values):6.2f} ms  {sql}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
