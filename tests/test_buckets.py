"""Per-issue time buckets written by the batch writer: exact counts and users, stats for the API."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from issues.buckets import (
    events_since,
    expire_buckets,
    hour_of,
    issue_stats,
    merge_buckets,
    users_since,
)
from issues.merge import merge_issues
from issues.models import Issue, IssueHourBucket, IssueHourUser, IssueMinuteBucket
from issues.store import store_events
from tests.factories import BASE_TIME, prepared_event

pytestmark = pytest.mark.django_db


def _at(event, moment):
    event.received = moment
    return event


def test_hour_and_minute_buckets_count_each_event_once_with_exact_users(make_project):
    project, _ = make_project()
    events = [_at(prepared_event(user=f"u{i % 3}"), BASE_TIME + timedelta(minutes=i)) for i in range(90)]
    store_events(project.id, events[:50])
    store_events(project.id, events)  # redelivered first half, new second half
    issue = Issue.objects.get()
    buckets = {b.hour: (b.times_seen, b.users) for b in IssueHourBucket.objects.filter(issue=issue)}
    assert buckets == {BASE_TIME: (60, 3), BASE_TIME + timedelta(hours=1): (30, 3)}
    assert IssueMinuteBucket.objects.filter(issue=issue).count() == 90
    assert IssueHourUser.objects.filter(issue=issue).count() == 6


def test_users_of_an_hour_stay_exact_across_batches(make_project):
    project, _ = make_project()
    store_events(project.id, [_at(prepared_event(user="a"), BASE_TIME), _at(prepared_event(), BASE_TIME)])
    store_events(
        project.id, [_at(prepared_event(user="a"), BASE_TIME), _at(prepared_event(user="b"), BASE_TIME)]
    )
    bucket = IssueHourBucket.objects.get()
    assert (bucket.times_seen, bucket.users) == (4, 2)


def test_stats_are_sentry_shaped_series_for_many_issues_in_one_query(make_project):
    project, _ = make_project()
    now = BASE_TIME + timedelta(minutes=30)
    store_events(
        project.id,
        [_at(prepared_event(hashes=["a" * 32]), BASE_TIME - timedelta(hours=h)) for h in (0, 0, 3, 30)]
        + [_at(prepared_event(hashes=["b" * 32]), BASE_TIME - timedelta(days=40))],
    )
    a, b = Issue.objects.order_by("short_id")
    with CaptureQueriesContext(connection) as queries:
        stats = issue_stats([a.pk, b.pk], now=now)
    assert len(queries) == 1
    hourly, daily = stats[a.pk]["24h"], stats[a.pk]["30d"]
    assert len(hourly) == 24 and len(daily) == 30
    assert hourly[-1] == [int(BASE_TIME.timestamp()), 2] and hourly[-4][1] == 1
    assert sum(n for _, n in hourly) == 3 and sum(n for _, n in daily) == 4
    assert daily[-1][0] == int(BASE_TIME.replace(hour=0).timestamp())
    assert sum(n for _, n in stats[b.pk]["30d"]) == 0  # older than 30 days


def test_issue_api_objects_carry_stats(make_project, client):
    from tests.factories import user_with_membership

    project, _ = make_project()
    store_events(project.id, [prepared_event()])
    user = user_with_membership(project)
    client.force_login(user)
    (issue,) = client.get("/api/0/projects/acme/web/issues/?query=").json()
    assert set(issue["stats"]) == {"24h", "30d"} and len(issue["stats"]["30d"]) == 30
    detail = client.get(f"/api/0/issues/{issue['id']}/").json()
    assert detail["stats"] == issue["stats"]


def test_window_counts_for_alert_triggers(make_project):
    from django.utils import timezone

    project, _ = make_project()
    now = timezone.now().replace(second=0, microsecond=0)
    events = [_at(prepared_event(user=f"u{i % 4}"), now - timedelta(minutes=i)) for i in range(20)]
    store_events(project.id, events)
    issue = Issue.objects.get()
    # Windows are rounded out to whole minutes (whole hours further back).
    assert events_since([issue.pk], now - timedelta(minutes=9, seconds=30)) == {issue.pk: 11}
    assert events_since([issue.pk], now - timedelta(minutes=9)) == {issue.pk: 10}
    assert events_since([issue.pk], now - timedelta(days=2)) == {issue.pk: 20}
    assert users_since([issue.pk], now - timedelta(minutes=5)) == {issue.pk: 4}


def test_merge_adds_buckets_and_expiry_removes_old_rows(make_project):
    from django.utils import timezone

    project, _ = make_project()
    now = timezone.now()
    store_events(project.id, [_at(prepared_event(hashes=["a" * 32], user="x"), now)])
    store_events(project.id, [_at(prepared_event(hashes=["b" * 32], user="y"), now) for _ in range(2)])
    a, b = Issue.objects.order_by("short_id")
    merge_issues(b, [a])
    bucket = IssueHourBucket.objects.get(issue=b)
    assert (bucket.times_seen, bucket.users) == (3, 2)
    assert merge_buckets(b.pk, []) is None
    assert expire_buckets(now + timedelta(hours=4)) == 1  # the minute bucket
    assert expire_buckets(now + timedelta(days=2)) == 2  # the user rows
    assert expire_buckets(now + timedelta(days=91)) == 1
    assert hour_of(now).minute == 0
