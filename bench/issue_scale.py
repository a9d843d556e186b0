"""Issue pages at scale (prints figures; not a test): 100,000 issues and 5 million events in PostgreSQL.

    .venv/bin/python bench/run.py --only issue-scale          # the same as:
    .venv/bin/python bench/issue_scale.py [--keep] [--repeat 10] [--explain]
    .venv/bin/python bench/issue_scale.py --issues 10000 --events 500000   # a smaller smoke run

Creates the database `lighttrace_bench_issue_scale` (PostgreSQL found like bench/run.py finds it:
DATABASE_URL's server, else 127.0.0.1 as postgres or root), migrates it, bulk-loads it in SQL
(bench/issue_scale_load.py: distributions there), prints load time and table sizes, then times
requests at the server, in process through Django's test Client (no network, no client time:
middleware, view, queries and rendering), each after 2 warm-up requests, `--repeat` times: median
and p95 against the targets of issue #16 (issue list <= 200 ms, issue page <= 300 ms), with the SQL
query count of each request and, for the list, the count at 25 and at 100 per page.
`--explain` prints EXPLAIN (ANALYZE, BUFFERS) of the 3 slowest queries of every request that misses.

`BENCH_ISSUE_SCALE_DB=name` uses another database name (two branches benched on one server).
The database is dropped at the end unless `--keep`; a run that finds it already loaded with the
same sizes skips the load (and still migrates it: a rerun after new migrations tests them too).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]

from stacks import find_postgres  # noqa: E402

# BENCH_ISSUE_SCALE_DB: another name, e.g. for two branches benched side by side on one server.
DB_NAME = os.environ.get("BENCH_ISSUE_SCALE_DB", "lighttrace_bench_issue_scale")
ORG = "bench-scale"
PROJECTS = ("backend", "frontend", "worker", "mobile")
LIST_TARGET_MS, PAGE_TARGET_MS = 200.0, 300.0
SORTS = ("date", "new", "freq", "user", "trends")
SEARCHES = {  # name -> query (None: no query parameter, Sentry's default is:unresolved)
    "default": None,
    "tag customer_tier:gold": "is:unresolved customer_tier:gold",
    "tag environment:production": "is:unresolved environment:production",
    "tag server_name (2,000 values)": "is:unresolved server_name:web-0042",
    "text 'timed out'": "is:unresolved timed out",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=10, help="timed requests per case (after 2 warm-ups)")
    parser.add_argument("--keep", action="store_true", help="keep the database for a quick rerun")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slow queries of misses")
    parser.add_argument("--only-cases", default="", help="run only the cases whose name contains this")
    args = parser.parse_args()
    base = find_postgres()
    loaded = prepare_database(base, args.issues, args.events)
    os.environ["DATABASE_URL"] = f"{base}/{DB_NAME}"
    os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="lighttrace-bench-issue-scale-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ.pop("REDIS_URL", None)  # pages only: no ingest, no Celery
    import django

    django.setup()
    try:
        started = time.monotonic()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        print(f"migrated in {time.monotonic() - started:.1f}s", flush=True)
        import issue_scale_timing

        ctx = issue_scale_timing.fixtures()
        if not loaded:
            load_data(base, ctx, args.issues, args.events)
        print_sizes(base)
        issue_scale_timing.run(ctx, args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
            print(f"dropped database {DB_NAME} (--keep keeps it for a quick rerun)")
        else:
            print(f"kept database {DB_NAME}: a rerun skips the load; drop it with "
                  f"psql -c 'DROP DATABASE {DB_NAME}'")  # fmt: skip
    return 0


def prepare_database(base: str, issues: int, events: int) -> bool:
    """True when the database already holds a complete load of these sizes."""
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
    if exists:
        with psycopg.connect(f"{base}/{DB_NAME}", autocommit=True) as conn:
            row = conn.execute(
                "SELECT issues, events FROM bench_issue_scale_meta WHERE complete"
                if conn.execute("SELECT to_regclass('bench_issue_scale_meta')").fetchone()[0]
                else "SELECT NULL, NULL WHERE false"
            ).fetchone()
        if row == (issues, events):
            print(f"database {DB_NAME} already holds {issues:,} issues and {events:,} events: load skipped")
            return True
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{DB_NAME}" WITH (FORCE)')
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    print(f"created database {DB_NAME}")
    return False


def load_data(base: str, ctx: dict, issues: int, events: int) -> None:
    from issue_scale_load import load

    print(f"loading {issues:,} issues and {events:,} events (SQL, server side) ...", flush=True)
    started = time.monotonic()
    load(f"{base}/{DB_NAME}", ctx, issues, events, lambda line: print(line, flush=True))
    with psycopg.connect(f"{base}/{DB_NAME}", autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_issue_scale_meta (issues int, events int, complete bool)")
        conn.execute("INSERT INTO bench_issue_scale_meta VALUES (%s, %s, true)", [issues, events])
    print(f"load took {time.monotonic() - started:.0f}s", flush=True)


def print_sizes(base: str) -> None:
    with psycopg.connect(f"{base}/{DB_NAME}", autocommit=True) as conn:
        rows = conn.execute(
            "SELECT c.relname, c.reltuples::bigint, pg_relation_size(c.oid), pg_indexes_size(c.oid), "
            "pg_total_relation_size(c.oid) FROM pg_class c WHERE c.relkind = 'r' "
            "AND c.relnamespace = 'public'::regnamespace AND c.relname LIKE 'issues\\_%%' "
            "ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 12"
        ).fetchall()
        total = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        settings = conn.execute(
            "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ') FROM pg_settings "
            "WHERE name IN ('server_version', 'shared_buffers', 'work_mem', 'effective_cache_size', "
            "'random_page_cost', 'jit')"
        ).fetchone()[0]
    mb = 1024 * 1024
    print(f"\nPostgreSQL: {settings}")
    print(f"database size {total / mb / 1024:.2f} GiB")
    print(f"{'table':32} {'rows':>12} {'heap MiB':>9} {'index MiB':>9} {'total MiB':>9}")
    for name, tuples, heap, index, all_ in rows:
        print(f"{name:32} {tuples:>12,} {heap / mb:>9.0f} {index / mb:>9.0f} {all_ / mb:>9.0f}")


if __name__ == "__main__":
    sys.exit(main())
