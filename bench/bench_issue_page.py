"""What one busy issue's page and API cost (prints figures; not a test).

    .venv/bin/python bench/bench_issue_page.py [--events 20000]
    DATABASE_URL=postgres://.../scratch_db .venv/bin/python bench/bench_issue_page.py   # an EMPTY scratch database

Without DATABASE_URL it runs on a fresh SQLite file in a temporary DATA_DIR (the embedded default).
Stores --events events of ONE issue through the batch writer, received over the last 30 days, with
many distinct tag values (a user per 4 events, a URL per 10, 20 releases, 5 browsers), then times
the issue page (14 d and 24 h), an event in the middle with its navigation, the events tab, the
affected users tab with a search, and the tag API (keys, values by count).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="lighttrace-bench-issue-page-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import ApiToken  # noqa: E402
from issues.models import Event, Issue  # noqa: E402
from issues.store import store_events  # noqa: E402
from projects.services import create_project  # noqa: E402
from tests.factories import prepared_event, user_with_membership  # noqa: E402


def timed(client: Client, path: str, repeat: int = 7) -> str:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(path)
        runs.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code}")
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    return f"median {statistics.median(runs):.1f} ms, min {min(runs):.1f} ms, {len(queries)} queries"


def _event(n: int, total: int, now):
    event = prepared_event(
        tags=[
            ("browser", f"Browser {n % 5}"),
            ("environment", "production"),
            ("release", f"shop@{n % 20}"),
            ("url", f"https://shop.example/item/{n // 10}"),
            ("user", f"id:{n // 4}"),
        ],
        user=f"{n // 4:040x}",
        release=f"shop@{n % 20}",
    )
    event.received = event.timestamp = now - timedelta(minutes=30 * 24 * 60 * (total - n) / total)
    return event


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    project, _ = create_project("bench", "page")
    user = user_with_membership(project, "bench-user")
    now = timezone.now()
    started = time.perf_counter()
    for start in range(0, args.events, 500):
        store_events(
            project.id, [_event(n, args.events, now) for n in range(start, min(args.events, start + 500))]
        )
    issue = Issue.objects.get(project=project)
    print(
        f"{connection.vendor}: 1 issue, {issue.times_seen} events, {issue.user_count} users "
        f"(stored in {time.perf_counter() - started:.0f} s)"
    )
    with connection.cursor() as cursor:  # what autovacuum would have done by now
        cursor.execute("ANALYZE")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    page = f"/organizations/bench/projects/page/issues/{issue.pk}"
    middle = Event.objects.filter(issue=issue).order_by("timestamp")[args.events // 2].event_id
    _, token = ApiToken.issue(user)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")
    print("issue page, 14 days:", timed(client, f"{page}/"))
    print("issue page, 24 hours:", timed(client, f"{page}/?period=24h"))
    print("issue page, an event in the middle:", timed(client, f"{page}/events/{middle}/"))
    print("events tab, page 20:", timed(client, f"{page}/events/?page=20"))
    print("users tab, search 'id:12':", timed(client, f"{page}/users/?query=id:12"))
    print("GET /api/0/issues/{id}/:", timed(api, f"/api/0/issues/{issue.pk}/"))
    print("GET /api/0/issues/{id}/tags/:", timed(api, f"/api/0/issues/{issue.pk}/tags/"))
    print(
        "GET /api/0/issues/{id}/tags/url/values/?sort=-count:",
        timed(api, f"/api/0/issues/{issue.pk}/tags/url/values/?sort=-count"),
    )


if __name__ == "__main__":
    main()
