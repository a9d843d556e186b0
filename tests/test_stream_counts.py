"""The issue stream's counts within the selected range and environments (issues/stream_counts.py):
hour buckets and hour-user rows by environment, the freq/user/trends sorts by range counts, and the
list API's `count`/`userCount` in range with the totals in `lifetime`, as Sentry's issue list."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ApiToken
from issues.buckets import hourly_counts, issue_series, issue_stats, merge_buckets, users_since
from issues.models import Issue, IssueHourBucket, IssueHourUser
from issues.store import store_events
from issues.stream import matching, page_rows, parse_scope
from issues.stream_counts import full_ranked_ids, range_stats, ranked_ids
from tests.factories import prepared_event, user_with_membership

pytestmark = pytest.mark.django_db


def _event(issue: int, environment: str, ago: timedelta, user: str = ""):
    event = prepared_event(hashes=[f"{issue:032x}"], user=user, title=f"Issue {issue}")
    event.environment = environment
    event.tags = [("environment", environment)] if environment else []
    event.received = event.timestamp = timezone.now() - ago
    return event


def _scope(**params):
    query = QueryDict(mutable=True)
    for key, value in params.items():
        query.setlist(key, value if isinstance(value, list) else [value])
    return parse_scope(query, bounded_by_default=False)


def _titles(project, the_scope) -> list[str]:
    found = matching(Issue.objects.filter(project=project), "", the_scope, None)
    return [i.title for i in page_rows(found, the_scope, [project.pk], 0, 100)]


@pytest.fixture
def stream(make_project):
    """Issue 1: 6 events 10 days ago in production (users a, b) and 1 now in staging (user a).
    Issue 2: 3 events now in production (users a, b, c). Issue 3: 2 events now without an
    environment (user d), and 1 in production 2 hours ago."""
    project, _ = make_project()
    minutes, days = timedelta(minutes=5), timedelta(days=10)
    events = [_event(1, "production", days, user="ab"[n % 2]) for n in range(6)]
    events.append(_event(1, "staging", minutes, user="a"))
    events += [_event(2, "production", minutes, user=u) for u in "abc"]
    events += [_event(3, "", minutes, user="d"), _event(3, "", minutes, user="d")]
    events.append(_event(3, "production", timedelta(hours=2)))
    store_events(project.id, events)
    issues = {int(i.title.split()[-1]): i for i in Issue.objects.filter(project=project)}
    return project, issues


def test_buckets_are_per_environment_and_exact_under_redelivery(stream, make_project):
    project, issues = stream
    one = IssueHourBucket.objects.filter(issue=issues[1])
    assert sorted(one.values_list("environment", "times_seen", "users")) == [
        ("production", 6, 2),
        ("staging", 1, 1),
    ]
    assert set(one.values_list("project_id", flat=True)) == {project.pk}
    assert sorted(
        IssueHourBucket.objects.filter(issue=issues[3]).values_list("environment", "times_seen")
    ) == [
        ("", 2),
        ("production", 1),
    ]
    assert IssueHourUser.objects.filter(issue=issues[1], environment="staging").count() == 1
    redelivered = [_event(2, "production", timedelta(minutes=5), user="a")]
    redelivered[0].event_id = Issue.objects.get(pk=issues[2].pk).events.first().event_id
    store_events(project.id, redelivered)
    assert IssueHourBucket.objects.get(issue=issues[2]).times_seen == 3


def test_readers_without_environment_sum_over_environments(stream):
    _, issues = stream
    now = timezone.now()
    assert users_since([issues[1].pk], now - timedelta(hours=1)) == {issues[1].pk: 1}
    assert users_since([issues[2].pk], now - timedelta(hours=1), environments=["staging"]) == {
        issues[2].pk: 0
    }
    stats = issue_stats([issues[1].pk])[issues[1].pk]
    assert sum(n for _, n in stats["30d"]) == 7
    assert sum(n for _, n in issue_stats([issues[1].pk], environments=["staging"])[issues[1].pk]["30d"]) == 1
    hour = (now - timedelta(days=10)).replace(minute=0, second=0, microsecond=0)
    assert hourly_counts(issues[1].pk, [hour]) == {hour: 6}
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(days=13)
    series = issue_series(issues[1].pk, start, timedelta(days=1), 14, environments=["production"])
    assert sum(n for _, n in series) == 6


def test_range_stats_within_range_and_environments(stream):
    _, issues = stream
    day = range_stats(list(issues.values()), _scope(statsPeriod="24h"))
    assert {n: (s.events, s.users, s.users_exact) for n, s in day.items() if n in (issues[1].pk,)} == {
        issues[1].pk: (1, 1, True)
    }
    assert (day[issues[2].pk].events, day[issues[3].pk].events, day[issues[3].pk].users) == (3, 3, 1)
    production = range_stats(list(issues.values()), _scope(statsPeriod="24h", environment="production"))
    assert [production[issues[n].pk].events for n in (1, 2, 3)] == [0, 3, 1]
    assert [production[issues[n].pk].users for n in (1, 2, 3)] == [0, 3, 0]
    month = range_stats(list(issues.values()), _scope(statsPeriod="30d", environment="production"))
    assert month[issues[1].pk].events == 6
    # Users beyond the 25 hours of hour-user rows: the sum of hourly users, at most the lifetime's.
    assert (month[issues[1].pk].users, month[issues[1].pk].users_exact) == (2, False)


def test_freq_and_user_sort_by_counts_in_range(stream):
    project, _ = stream
    assert _titles(project, _scope(sort="freq", statsPeriod="24h")) == ["Issue 3", "Issue 2", "Issue 1"]
    assert _titles(project, _scope(sort="freq", statsPeriod="30d")) == ["Issue 1", "Issue 3", "Issue 2"]
    assert _titles(project, _scope(sort="freq", statsPeriod="30d", environment="staging")) == ["Issue 1"]
    assert _titles(project, _scope(sort="user", statsPeriod="24h")) == ["Issue 2", "Issue 3", "Issue 1"]
    assert _titles(project, _scope(sort="user", statsPeriod="24h", environment="staging")) == ["Issue 1"]
    assert _titles(project, _scope(sort="user", statsPeriod="30d"))[0] == "Issue 2"
    # Trend over 24 h: issue 3: 3 - 0, issue 2: 3 - 0 (then last seen), issue 1: 1 - 0.
    assert _titles(project, _scope(sort="trends", statsPeriod="24h"))[2] == "Issue 1"


def test_merged_buckets_keep_their_environments(stream):
    _, issues = stream
    merge_buckets(issues[2].pk, [issues[1].pk])
    merged = IssueHourBucket.objects.filter(issue=issues[2])
    assert sorted(merged.values_list("environment", "times_seen")) == [
        ("production", 3),
        ("production", 6),
        ("staging", 1),
    ]
    assert set(merged.values_list("project_id", flat=True)) == {issues[2].project_id}


@pytest.fixture
def api(stream):
    project, issues = stream
    jane = user_with_membership(project, "jane")
    _, token = ApiToken.issue(jane)
    return project, issues, Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_list_api_counts_are_within_range_and_environments(api):
    project, issues, client = api
    path = f"/api/0/projects/{project.organization.slug}/{project.slug}/issues/"
    body = {i["id"]: i for i in client.get(path, {"statsPeriod": "24h", "query": ""}).json()}
    one = body[str(issues[1].pk)]
    assert (one["count"], one["userCount"]) == ("1", 1)
    assert one["lifetime"]["count"] == "7" and one["lifetime"]["userCount"] == 2
    assert one["lifetime"]["firstSeen"] == one["firstSeen"] and one["filtered"] is None
    staged = client.get(
        path, {"statsPeriod": "14d", "environment": "production", "sort": "freq", "query": ""}
    )
    rows = staged.json()
    assert [r["title"] for r in rows] == ["Issue 1", "Issue 2", "Issue 3"]
    assert [(r["count"], r["userCount"]) for r in rows] == [("6", 2), ("3", 3), ("1", 0)]
    assert sum(n for _, n in rows[0]["stats"]["30d"]) == 6
    org = client.get(
        f"/api/0/organizations/{project.organization.slug}/issues/", {"sort": "user", "query": ""}
    )
    assert org.json()[0]["title"] == "Issue 2" and org.json()[0]["userCount"] == 3


def test_list_page_shows_counts_within_the_environment(api, client):
    project, issues, _ = api
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="jane"))
    page = client.get(
        f"/organizations/{project.organization.slug}/projects/{project.slug}/",
        {"statsPeriod": "24h", "environment": "staging", "query": ""},
    )
    text = page.content.decode()
    assert page.status_code == 200 and "Issue 1" in text and "Issue 2" not in text
    assert 'title="7 in total">1</td>' in text
    week = client.get(
        f"/organizations/{project.organization.slug}/projects/{project.slug}/",
        {"statsPeriod": "7d", "environment": "staging", "query": ""},
    ).content.decode()
    assert re.search(r'class="users" title="At most: [^"]*">≤ 1</td>', week)  # an upper bound, said so


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "freq", "statsPeriod": "24h"},
        {"sort": "freq", "statsPeriod": "14d", "environment": "staging"},
        {"sort": "user", "statsPeriod": "24h"},
        {"sort": "user", "statsPeriod": "30d", "environment": "production"},
        {"sort": "trends", "statsPeriod": "24h"},
        {"sort": "trends", "statsPeriod": "7d", "environment": "production"},
    ],
)
def test_pruned_ranking_is_the_full_aggregates_order(make_project, params):
    """ranked_ids reads candidates by lifetime count and stops early; the order is the one of the
    aggregate of every bucket in the range, at several pages."""
    project, _ = make_project()
    events = []
    for n in range(1, 161):  # lifetime and in-range counts that disagree: old events, two environments
        events += [_event(n, "production", timedelta(days=3), user=f"p{n % 4}") for _ in range(n % 9)]
        events += [_event(n, "staging", timedelta(minutes=5), user=f"s{k}") for k in range(n % 5)]
        events += [_event(n, "production", timedelta(hours=30)) for _ in range((n * 7) % 4)]
        if n % 30 == 0:  # five issues far ahead in every range and environment
            for environment in ("production", "staging"):
                events += [_event(n, environment, timedelta(minutes=9), user=f"b{k}") for k in range(30)]
    store_events(project.id, events)
    the_scope = _scope(**params)
    found = matching(Issue.objects.filter(project=project), "", the_scope, None)
    with CaptureQueriesContext(connection) as captured:  # the first 100 candidates settle the top 5
        top = ranked_ids(found, the_scope, [project.pk], 0, 5)
    assert len(captured.captured_queries) == 2
    assert sorted(top) == sorted(
        i.pk for i in Issue.objects.filter(title__in=[f"Issue {n}" for n in range(30, 151, 30)])
    )
    for offset, limit in ((0, 5), (0, 25), (20, 10), (150, 25)):
        pruned = ranked_ids(found, the_scope, [project.pk], offset, limit)
        assert pruned == full_ranked_ids(found, the_scope, [project.pk], offset, limit), (offset, limit)
