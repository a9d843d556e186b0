"""Triage costs (prints figures; not a test).

    .venv/bin/python bench/bench_triage.py [--issues 5000]
    DATABASE_URL=postgres://.../scratch_db .venv/bin/python bench/bench_triage.py   # an EMPTY scratch database

Without DATABASE_URL it runs on a fresh SQLite file in a temporary DATA_DIR (the embedded default).
Prints: the batch writer's time per batch of 200 events when none / all of the batch's issues are
ignored until a count (the lifecycle's extra work in the writer), a bulk resolve of 1,000 issues,
the issue list API (100 per page, per-user flags), one issue's detail with 200 activity rows, and
last the writer's time per batch of 200 events that create 200 new issues (each enters the review
inbox in the batch's transaction), and that INSERT alone.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="lighttrace-bench-triage-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import ApiToken  # noqa: E402
from issues import comments, lifecycle  # noqa: E402
from issues.models import Issue, IssueInbox  # noqa: E402
from issues.store import store_events  # noqa: E402
from projects.services import create_project  # noqa: E402
from tests.factories import prepared_event, user_with_membership  # noqa: E402


def timed(fn, repeat: int = 5) -> str:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = fn()
        if getattr(response, "status_code", 200) != 200:
            raise SystemExit(f"request failed: {response.status_code}")
        runs.append((time.perf_counter() - start) * 1000)
    return f"median {statistics.median(runs):.1f} ms, min {min(runs):.1f} ms ({repeat} runs)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--issues", type=int, default=5000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    project, _ = create_project("bench", "triage")
    user = user_with_membership(project, "bench-user")
    for start in range(0, args.issues, 500):
        store_events(
            project.id,
            [prepared_event(hashes=[f"{n:032x}"]) for n in range(start, min(args.issues, start + 500))],
        )
    ids = list(Issue.objects.order_by("pk").values_list("pk", flat=True))
    print(f"{connection_vendor()}: {len(ids)} issues")

    batch_ids = ids[:200]

    def batch() -> None:
        store_events(project.id, [prepared_event(hashes=[f"{n:032x}"]) for n in range(200)])

    print("batch of 200 events, no issue ignored:", timed(batch))
    lifecycle.ignore(batch_ids, user, lifecycle.IgnoreCondition(count=1_000_000))
    print("batch of 200 events, all 200 issues ignored until a count:", timed(batch))
    lifecycle.unresolve(batch_ids, user)

    resolve_ids = ids[:1000]
    print(
        "bulk resolve + unresolve of 1,000 issues (activity rows included):",
        timed(lambda: (lifecycle.resolve(resolve_ids, user), lifecycle.unresolve(resolve_ids, user)), 3),
    )
    _, token = ApiToken.issue(user)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")
    for pk in ids[:100]:
        lifecycle.assign([pk], user, user)
    print(
        "GET issue list, 100 per page:",
        timed(lambda: client.get("/api/0/projects/bench/triage/issues/?limit=100")),
    )
    issue = Issue.objects.get(pk=ids[0])
    for n in range(200):
        comments.add_note(issue, user, f"note **{n}**")
    print("GET one issue with 200 activity rows:", timed(lambda: client.get(f"/api/0/issues/{issue.pk}/")))
    starts = iter(range(10**6, 10**7, 200))

    def new_issues() -> None:
        start = next(starts)
        store_events(project.id, [prepared_event(hashes=[f"{n:032x}"]) for n in range(start, start + 200)])

    print("batch of 200 events creating 200 new issues:", timed(new_issues, 9))
    print("  of which their review inbox INSERT:", inbox_insert(), "(the same 200 issues again)")


def inbox_insert() -> str:
    """The writer's one statement per batch for the review inbox, alone (the newest 200 issues'
    rows are deleted first, outside the timing)."""
    new_ids = list(Issue.objects.order_by("-pk").values_list("pk", flat=True)[:200])
    runs = []
    for _ in range(9):
        with transaction.atomic():
            IssueInbox.objects.filter(issue_id__in=new_ids).delete()
            start = time.perf_counter()
            lifecycle.admit_new(new_ids)
            runs.append((time.perf_counter() - start) * 1000)
    return f"median {statistics.median(runs):.1f} ms, min {min(runs):.1f} ms ({len(runs)} runs)"


def connection_vendor() -> str:
    from django.db import connection

    return connection.vendor


if __name__ == "__main__":
    main()
