"""What the issue stream costs at scale: the list API and the list page over 100,000 issues of one
project, with tag rows, hour buckets and a review inbox of 5,000 issues spread over the list, for
the default search, a tag search, a text search, each sort and the "For review" search. Prints the median (min) server time of each over 5 runs after a warm-up.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scratch_db .venv/bin/python bench/bench_issue_stream.py

The database must be an empty scratch PostgreSQL one (it is migrated and filled).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="bench-stream-"))
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

ISSUES = int(os.environ.get("BENCH_ISSUES", "100000"))
RECENT = ISSUES // 10  # issues with events in the last day (hour buckets)


def fill() -> tuple[str, Client, Client]:
    from django.contrib.auth import get_user_model

    from accounts.models import ApiToken
    from projects.services import add_member, create_project

    call_command("migrate", verbosity=0)
    project, _ = create_project("bench", "web")
    user = get_user_model().objects.create_user(username="bench", password="pw")
    add_member(project.organization, user)
    if connection.vendor != "postgresql":
        raise SystemExit("this benchmark fills PostgreSQL only; set DATABASE_URL to a scratch database")
    series = f"generate_series(1, {ISSUES})"
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO issues_issue (project_id, short_id, title, culprit, type, level, platform, metadata, "
            "status, substatus, first_seen, last_seen, first_release, last_release, times_seen, user_count, "
            "resolved_at, grouping_config, retention_times_seen) "
            f"SELECT %s, n, 'ValueError: thing ' || n, 'app.views in handler_' || (n %% 500), 'error', "
            "CASE WHEN n %% 10 = 0 THEN 'warning' ELSE 'error' END, 'python', "
            '(\'{"type": "ValueError", "value": "thing \' || n || \'"}\')::jsonb, '
            "CASE WHEN n %% 5 = 0 THEN 'resolved' ELSE 'unresolved' END, "
            "CASE WHEN n %% 5 = 0 THEN '' ELSE 'ongoing' END, "
            "now() - (n || ' minutes')::interval - interval '1 day', now() - (n || ' minutes')::interval, "
            f"'1.0', '1.0', 1 + (n::bigint * 7919) %% 5000, (n::bigint * 104729) %% 300, NULL, 'newstyle:2023-01-11', 0 FROM {series} n",
            [project.pk],
        )
        cursor.execute(
            "INSERT INTO issues_issuetag (issue_id, key, value, times_seen, first_seen, last_seen) "
            "SELECT id, k.key, CASE k.key WHEN 'environment' THEN (ARRAY['production','staging'])[1 + id %% 2] "
            "ELSE (ARRAY['gold','silver','bronze'])[1 + id %% 3] END, 1, first_seen, last_seen "
            "FROM issues_issue, (VALUES ('environment'), ('customer_tier')) AS k(key) WHERE project_id = %s",
            [project.pk],
        )
        cursor.execute(
            "INSERT INTO issues_issuehourbucket (issue_id, hour, times_seen, users) "
            "SELECT id, date_trunc('hour', now()) - (h || ' hours')::interval, 1 + (id + h) %% 9, 1 "
            "FROM (SELECT id FROM issues_issue WHERE project_id = %s ORDER BY last_seen DESC LIMIT %s) i, "
            "generate_series(0, 47) h",
            [project.pk, RECENT],
        )
        # One unresolved issue in 16 entered the review inbox within the last 6 days.
        cursor.execute(
            "INSERT INTO issues_issueinbox (issue_id, reason, reason_details, date_added) "
            "SELECT id, 0, NULL, now() - ((id %% 8640) || ' minutes')::interval FROM issues_issue "
            "WHERE project_id = %s AND status = 'unresolved' AND id %% 16 = 0",
            [project.pk],
        )
    with connection.cursor() as cursor:  # autocommit: VACUUM sets the visibility map as autovacuum would
        cursor.execute("VACUUM ANALYZE")
    _, token = ApiToken.issue(user)
    page = Client()
    page.force_login(user)
    return project.slug, Client(HTTP_AUTHORIZATION=f"Bearer {token}"), page


def timed(client: Client, path: str, params: dict) -> tuple[float, float]:
    client.get(path, params)  # warm-up
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        response = client.get(path, params)
        runs.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.content[:300]
    return statistics.median(runs), min(runs)


def main() -> None:
    slug, api, page = fill()
    cases = [
        ("default (is:unresolved, last seen)", {}),
        ("tag search customer_tier:gold", {"query": "is:unresolved customer_tier:gold"}),
        ("text search", {"query": "is:unresolved thing 4242"}),
        ("sort new", {"sort": "new"}),
        ("sort freq", {"sort": "freq"}),
        ("sort user", {"sort": "user"}),
        ("sort trends, 24h", {"sort": "trends", "statsPeriod": "24h"}),
        ("environment=production, 7d", {"environment": "production", "statsPeriod": "7d"}),
        (
            "For review (is:unresolved is:for_review), expand=inbox",
            {"query": "is:unresolved is:for_review", "expand": "inbox"},
        ),
    ]
    print(f"{ISSUES} issues ({connection.vendor}); median (min) of 5, ms")
    print("| case | API, 25 per page | page, 50 per page |")
    print("|---|---|---|")
    for name, params in cases:
        a = timed(api, f"/api/0/projects/bench/{slug}/issues/", params)
        p = timed(page, f"/organizations/bench/projects/{slug}/", params)
        print(f"| {name} | {a[0]:.0f} ({a[1]:.0f}) | {p[0]:.0f} ({p[1]:.0f}) |")


if __name__ == "__main__":
    main()
