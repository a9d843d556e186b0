"""Fixtures and timings of bench/issue_scale.py (imported after django.setup())."""

from __future__ import annotations

import os
import statistics
import time
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from issue_scale import LIST_TARGET_MS, ORG, PAGE_TARGET_MS, PROJECTS, SEARCHES, SORTS
from issue_scale_load import VERSIONS

from accounts.models import ApiToken
from projects.models import Organization, Team
from projects.services import add_member, create_project
from releases.models import Release

LARGE_ISSUE = 1  # the power law of the load gives issue 1 the most events


def fixtures() -> dict:
    """Organization, 4 projects, 10 members (the first is who requests), a team, 30 releases;
    idempotent, so a rerun on a kept database finds the same ids."""
    projects = [create_project(ORG, slug, platform="python")[0] for slug in PROJECTS]
    org = Organization.objects.get(slug=ORG)
    users = []
    for n in range(10):
        user, created = get_user_model().objects.get_or_create(username=f"bench{n}")
        if created:
            user.set_password("pw-bench")
            user.save()
        add_member(org, user)
        users.append(user)
    team, _ = Team.objects.get_or_create(organization=org, slug="oncall")
    team.members.add(*users[:3])
    for version in VERSIONS:
        Release.objects.get_or_create(organization=org, version=version)
    return {
        "project_ids": [p.pk for p in projects],
        "user_ids": [u.pk for u in users],
        "team_id": team.pk,
        "user": users[0],
        "projects": projects,
    }


def _cases(ctx: dict) -> list[tuple[str, str, str, float]]:
    """(group, name, path, target ms)."""
    project = ctx["projects"][0]
    page = reverse("issue-list", args=[ORG, project.slug])
    api = f"/api/0/projects/{ORG}/{project.slug}/issues/"
    org_api = f"/api/0/organizations/{ORG}/issues/"

    def url(path: str, **params) -> str:
        params = {k: v for k, v in params.items() if v is not None}
        return path + ("?" + urlencode(params) if params else "")

    cases = []
    for group, path in (("list page", page), ("list API", api)):
        for name, query in SEARCHES.items():
            cases.append((group, name, url(path, query=query), LIST_TARGET_MS))
        for sort in SORTS:
            cases.append((group, f"sort={sort}", url(path, sort=sort), LIST_TARGET_MS))
        # The counts and the range sorts within a range and environments (issues/stream_counts.py).
        for sort in ("freq", "user", "trends"):
            cases.append((group, f"sort={sort} 24h", url(path, sort=sort, statsPeriod="24h"), LIST_TARGET_MS))
            cases.append((group, f"sort={sort} 14d", url(path, sort=sort, statsPeriod="14d"), LIST_TARGET_MS))
            cases.append((group, f"sort={sort} 14d staging", url(path, sort=sort, statsPeriod="14d", environment="staging"), LIST_TARGET_MS))  # fmt: skip
        cases.append((group, "default production 14d", url(path, statsPeriod="14d", environment="production"), LIST_TARGET_MS))  # fmt: skip
    cases.append(("org list API", "default", org_api, LIST_TARGET_MS))
    cases.append(("org list API", "sort=freq", url(org_api, sort="freq"), LIST_TARGET_MS))
    cases.append(("org list API", "tag customer_tier:gold", url(org_api, query=SEARCHES["tag customer_tier:gold"]), LIST_TARGET_MS))  # fmt: skip
    cases.append(("org list API", "text 'timed out'", url(org_api, query=SEARCHES["text 'timed out'"]), LIST_TARGET_MS))  # fmt: skip
    detail = _issue_page(project)
    if detail:
        cases.append(("issue page", "large issue, latest event", detail, PAGE_TARGET_MS))
    cases.append(("issue API", "detail", f"/api/0/issues/{LARGE_ISSUE}/", PAGE_TARGET_MS))
    for name, path in (("events", "events/"), ("tags", "tags/"), ("tag values", "tags/server_name/values/")):
        if _routed(f"/api/0/issues/{LARGE_ISSUE}/{path}"):
            cases.append(("issue API", name, f"/api/0/issues/{LARGE_ISSUE}/{path}", PAGE_TARGET_MS))
    return cases


def _issue_page(project) -> str | None:
    try:
        return reverse("issue-detail", args=[ORG, project.slug, LARGE_ISSUE])
    except NoReverseMatch:
        return None


def _routed(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def _clients(user) -> tuple[Client, Client]:
    page = Client(HTTP_HOST="127.0.0.1")
    page.force_login(user)
    _, token = ApiToken.issue(user)
    return page, Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")


def _measure(client: Client, path: str, repeat: int) -> dict:
    for _ in range(2):
        response = client.get(path)
    reset_queries()  # request_started resets the log: a context opened on a longer log sees nothing
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    queries = list(captured.captured_queries)  # a view of the log, which the next request resets
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        client.get(path)
        runs.append((time.perf_counter() - start) * 1000)
    runs.sort()
    return {
        "status": response.status_code,
        "min": runs[0],
        "median": statistics.median(runs),
        "p95": runs[min(len(runs) - 1, round(0.95 * (len(runs) - 1)))],
        "queries": len(queries),
        "slowest": sorted(queries, key=lambda q: -float(q["time"]))[:3],
    }


def _page_size_queries(api: Client, ctx: dict) -> str:
    project = ctx["projects"][0]
    counts = []
    for limit in (25, 100):
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            api.get(f"/api/0/projects/{ORG}/{project.slug}/issues/?limit={limit}")
        counts.append(len(captured.captured_queries))
    return f"list API queries at limit=25: {counts[0]}, at limit=100: {counts[1]}"


def run(ctx: dict, args) -> None:
    page, api = _clients(ctx["user"])
    cases = [c for c in _cases(ctx) if args.only_cases in f"{c[0]}: {c[1]}"]
    print(f"\ntimings at the server (Django test Client in process), 2 warm-ups + {args.repeat} runs each")
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} (other load inflates every figure)")
    header = f"{'request':52} {'min ms':>7} {'median ms':>9} {'p95 ms':>8} {'target':>7} {'':5} {'queries':>7}  status"
    print(header + "\n" + "-" * len(header), flush=True)
    misses, timed = [], []
    started = time.monotonic()
    for group, name, path, target in cases:
        client = page if group.endswith("page") else api
        result = _measure(client, path, args.repeat)
        if result["status"] == 404:  # an endpoint this checkout does not have (yet)
            print(f"{group + ': ' + name:52} {'n/a: 404, not on this checkout':>38}", flush=True)
            continue
        ok = result["status"] == 200 and result["p95"] <= target
        verdict = "PASS" if ok else "MISS"
        print(
            f"{group + ': ' + name:52} {result['min']:>7.1f} {result['median']:>9.1f} {result['p95']:>8.1f} {target:>5.0f}ms "
            f"{verdict:5} {result['queries']:>7}  {result['status']}",
            flush=True,
        )
        timed.append(name)
        if not ok:
            misses.append((group, name, path, result))
    print(f"(timing took {time.monotonic() - started:.0f}s)")
    print(_page_size_queries(api, ctx))
    print(f"{len(timed) - len(misses)} of {len(timed)} requests within target (p95)")
    for group, name, path, result in misses:
        print(f"\nMISS {group}: {name}  GET {path}")
        for query in result["slowest"]:
            print(f"  {float(query['time']) * 1000:.1f} ms: {query['sql'][:400]}")
            if args.explain and float(query["time"]) >= 0.02:  # a plan only for queries that matter
                _explain(query["sql"])


def _explain(sql: str) -> None:
    if not sql.lstrip().upper().startswith("SELECT"):
        return
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        for (line,) in cursor.fetchall():
            print("      " + line)
