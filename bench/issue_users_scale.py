"""Migration 0019 and the `user.*` search at scale (prints figures; not a test).

    .venv/bin/python bench/issue_users_scale.py [--issues 100000] [--big 20000]
    DATABASE_URL=postgres://.../scratch_db .venv/bin/python bench/issue_users_scale.py   # an EMPTY scratch database

Migrates to 0018 (before the move), writes --issues issues of one project with two users each, and
one issue with --big users, as the batch writer before 0019 left them: IssueUser rows without
identifiers, and per user a `user` tag row and its four `sentry:user.*` rows with the same counts.
Then times the migration to 0019, and the issue search `user.email:` (a user of one small issue,
and one of the big issue) and the affected users search of the big issue, with their plans.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="lighttrace-bench-users-scale-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from core.sql import insert_rows  # noqa: E402

T = datetime(2026, 11, 1, tzinfo=UTC)


def write(table: str, columns: list[str], rows: list[tuple]) -> None:
    for start in range(0, len(rows), 5000):
        with transaction.atomic():
            insert_rows(table, columns, rows[start : start + 5000], chunk=500)


def fill(issues: int, big: int) -> None:
    from projects.services import create_project

    project, _ = create_project("bench", "users")
    write(
        "issues_issue",
        ["project_id", "short_id", "title", "culprit", "type", "level", "platform", "metadata", "first_seen",
         "last_seen", "times_seen", "user_count", "status", "substatus", "first_release", "last_release",
         "grouping_config", "retention_times_seen"],
        [(project.pk, n + 1, f"Error {n}", "", "error", "error", "python", "{}", T, T, 2, 2, "unresolved", "new", "", "", "", 0)
         for n in range(issues)],
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM issues_issue ORDER BY id")
        ids = [row[0] for row in cursor.fetchall()]
    owners = [(ids[0], n) for n in range(big)] + [(issue, n) for issue in ids[1:] for n in (0, 1)]
    users, tags = [], []
    for issue, n in owners:
        who = f"{issue}-{n}"
        users.append((issue, hashlib.sha1(f"id:u{who}".encode()).hexdigest()))
        seen = (n % 7 + 1, T + timedelta(seconds=n), T + timedelta(seconds=n + issue % 100))
        for key, value in (("user", f"id:u{who}"), ("sentry:user.id", f"u{who}"),
                           ("sentry:user.email", f"user{who}@example.com"), ("sentry:user.username", f"name{who}"),
                           ("sentry:user.ip", f"10.{n // 250 % 250}.{n % 250}.{issue % 250}")):  # fmt: skip
            tags.append((issue, key, value, *seen))
    write("issues_issueuser", ["issue_id", "user_key"], users)
    write("issues_issuetag", ["issue_id", "key", "value", "times_seen", "first_seen", "last_seen"], tags)
    print(
        f"{connection.vendor}: {issues} issues, {len(users)} users, {len(tags)} tag rows ({big} users in one issue)"
    )
    return ids


def timed_sql(label: str, sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        start = time.perf_counter()
        cursor.execute(sql, params)
        found = cursor.fetchall()
        took = (time.perf_counter() - start) * 1000
        explain = (
            "EXPLAIN (ANALYZE, COSTS OFF) " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
        )
        cursor.execute(explain + sql, params)
        plan = "\n    ".join(str(row[-1]) for row in cursor.fetchall())
    print(f"{label}: {len(found)} rows, {took:.1f} ms\n    {plan}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--big", type=int, default=20_000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    call_command("migrate", "issues", "0018", verbosity=0)
    ids = fill(args.issues, args.big)
    start = time.perf_counter()
    call_command("migrate", "issues", "0019", verbosity=0)
    print(f"migration 0019: {time.perf_counter() - start:.1f} s")
    call_command("migrate", verbosity=0)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    from django.db.models import Q

    from issues.affected_users import MAX_MATCHES
    from issues.models import Issue, IssueUser
    from issues.search import apply_query
    from issues.tag_summary import tag_values

    for label, email in (
        ("small issue", f"user{ids[500]}-1@example.com"),
        ("big issue", f"user{ids[0]}-77@example.com"),
    ):
        query = apply_query(Issue.objects.all(), f"is:unresolved user.email:{email}").order_by("-last_seen")[
            :25
        ]
        sql, params = query.values_list("id").query.sql_with_params()
        timed_sql(f"issue search user.email: ({label})", sql, list(params))
    for text in ("user1-7", "NAME1-1", "10.3."):
        start = time.perf_counter()
        found = list(tag_values(ids[0], "user", "-count", text)[:51])  # matching users, then their tag rows
        took = (time.perf_counter() - start) * 1000
        print(
            f"users tab search {text!r} of the issue with {args.big} users: {len(found)} rows, {took:.1f} ms in all"
        )
    matching = IssueUser.objects.filter(issue_id=ids[0]).filter(
        Q(ident__startswith="x")
        | Q(email__istartswith="x")
        | Q(username__istartswith="x")
        | Q(ip_address__startswith="x")
    )[:MAX_MATCHES]
    sql, params = matching.values_list("ident").query.sql_with_params()
    timed_sql("  of which the users' identifiers (no match: every user of the issue read)", sql, list(params))


if __name__ == "__main__":
    main()
