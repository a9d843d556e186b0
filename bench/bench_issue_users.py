"""What keeping the event's user costs the batch writer (prints figures; not a test).

    .venv/bin/python bench/bench_issue_users.py [--checkout DIR] [--batches 40]
    DATABASE_URL=postgres://.../scratch_db .venv/bin/python bench/bench_issue_users.py   # an EMPTY scratch database

Without DATABASE_URL it runs on a fresh SQLite file in a temporary DATA_DIR (the embedded default).
`--no-fill` leaves a user seen again as it is (ON CONFLICT DO NOTHING), for the cost of filling.
`--checkout DIR` runs the writer of another checkout (e.g. `git worktree add /tmp/before <commit>`),
so that a commit which stores the user differently can be compared with the same events: batches
of 200 events over 20 issues, each event's user one of 2,000 with an id, an email, a username and
an IP address, most of them already seen in the issue (the steady state; `--users 1000000`: nearly
every user new to the issue, as in a spike). Prints the median per
batch of the whole store_events and of its user and tag steps (`_upsert_users`, `_upsert_tags`),
and the tag and user rows the batches wrote.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--checkout", default=str(Path(__file__).resolve().parent.parent))
parser.add_argument("--batches", type=int, default=40)
parser.add_argument("--users", type=int, default=2000, help="distinct users the events draw from")
parser.add_argument("--no-fill", action="store_true", help="users seen again gain no identifier (DO NOTHING)")
args = parser.parse_args()
sys.path.insert(0, args.checkout)
os.chdir(args.checkout)
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="lighttrace-bench-users-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

import issues.eventinfo as info  # noqa: E402
from issues import store  # noqa: E402
from projects.services import create_project  # noqa: E402
from tests.factories import prepared_event  # noqa: E402

STEPS = {"_upsert_users": [], "_upsert_tags": []}


def timed_step(name: str):
    step = getattr(store, name)

    def run(*a, **kw):
        start = time.perf_counter()
        try:
            return step(*a, **kw)
        finally:
            STEPS[name].append((time.perf_counter() - start) * 1000)

    setattr(store, name, run)


def event(rng: random.Random):
    n = int(rng.paretovariate(1.2)) % args.users if args.users <= 2000 else rng.randrange(args.users)
    user = {
        "id": f"u{n}",
        "email": f"user{n}@example.com",
        "username": f"user{n}",
        "ip_address": f"10.0.{n // 250}.{n % 250}",
    }
    tags = [
        ("browser", rng.choice(["Chrome", "Firefox"])),
        ("environment", "production"),
        ("user", info.user_tag({"user": user})),
    ]
    prepared = prepared_event(hashes=[f"{rng.randrange(20):032x}"], tags=tags)
    prepared.user_key = info.user_identity({"user": user})
    if hasattr(info, "search_facts"):  # before: every identifier a tag row
        prepared.search_facts = info.search_facts({"user": user})
    else:  # after: the identifiers on the IssueUser row
        prepared.user = info.user_identifiers({"user": user})
    return prepared


def rows(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return cursor.fetchone()[0]


def main() -> None:
    call_command("migrate", verbosity=0)
    project, _ = create_project("bench", "users")
    rng = random.Random(7)
    for _ in range(20):  # warm-up: the issues and most users exist
        store.store_events(project.id, [event(rng) for _ in range(200)])
    tags_before, users_before = rows("issues_issuetag"), rows("issues_issueuser")
    for name in STEPS:
        timed_step(name)
    if args.no_fill:
        upsert = store.upsert

        def without_fill(*a, **kw):
            if a[0] == "issues_issueuser":
                kw.pop("update_sql", None)
            return upsert(*a, **kw)

        store.upsert = without_fill
    whole = []
    for _ in range(args.batches):
        batch = [event(rng) for _ in range(200)]
        start = time.perf_counter()
        store.store_events(project.id, batch)
        whole.append((time.perf_counter() - start) * 1000)
    per = {name: statistics.median(times) for name, times in STEPS.items()}
    print(
        f"{connection.vendor} {args.checkout}{' --no-fill' if args.no_fill else ''} users={args.users}: store_events median {statistics.median(whole):.2f} ms/batch of 200; "
        f"_upsert_users {per['_upsert_users']:.2f} ms, _upsert_tags {per['_upsert_tags']:.2f} ms, "
        f"together {per['_upsert_users'] + per['_upsert_tags']:.2f} ms; rows written by the timed batches: "
        f"issuetag +{rows('issues_issuetag') - tags_before}, issueuser +{rows('issues_issueuser') - users_before}; "
        f"issuetag rows in all {rows('issues_issuetag')}"
    )


if __name__ == "__main__":
    main()
