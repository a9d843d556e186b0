"""Retention: age and per-issue cap deletes events in batches; issue counts stay exact."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from issues.models import Attachment, Event, GroupHash, Issue, IssueTag, IssueUser
from issues.retention import run_cleanup
from issues.store import store_events
from issues.tasks import LOCK_KEY, cleanup_retention
from projects.models import OrganizationMember
from tests.factories import prepared_event, user_with_membership

pytestmark = pytest.mark.django_db
A, B = "a" * 32, "b" * 32
NOW = timezone.now().replace(microsecond=0)


def _store(project, count: int, *, days_ago: float = 0, hashes=None, users: bool = True, first: int = 0):
    """`count` events received `days_ago`, one second apart, user i for event i."""
    events = []
    for i in range(first, first + count):
        event = prepared_event(hashes=hashes or [A], user=f"user-{i}" if users else "")
        event.timestamp = event.received = NOW - timedelta(days=days_ago) + timedelta(seconds=i)
        events.append(event)
    store_events(project.id, events)
    return [e.event_id for e in events]


def _project(make_project, *, days: int = 90, cap: int = 10_000, slug: str = "web"):
    project, _ = make_project(slug=slug)
    project.retention_days, project.max_events_per_issue = days, cap
    project.save()
    return project


def _attach(project, event_id: str, days_ago: float = 0) -> None:
    Attachment.objects.create(project=project, event_id=event_id, name="a.txt", size=1, data=b"x")
    Attachment.objects.filter(event_id=event_id).update(created=NOW - timedelta(days=days_ago))


def test_old_events_and_attachments_go_newer_stay_and_counts_do_not_move(make_project):
    project = _project(make_project, days=30)
    old = _store(project, 4, days_ago=40)
    new = _store(project, 3, days_ago=1, first=4)
    _attach(project, old[0], days_ago=40)
    _attach(project, new[0], days_ago=1)
    result = run_cleanup(now=NOW)
    assert (result.expired_events, result.attachments, result.issues) == (4, 1, 0)
    assert set(Event.objects.values_list("event_id", flat=True)) == set(new)
    assert list(Attachment.objects.values_list("event_id", flat=True)) == [new[0]]
    issue = Issue.objects.get()
    assert (issue.times_seen, issue.user_count) == (7, 7)
    assert IssueTag.objects.get(issue=issue, key="level").times_seen == 7
    assert run_cleanup(now=NOW).deleted == 0


def test_issue_over_the_cap_keeps_exactly_its_newest_events(make_project):
    project = _project(make_project, cap=5)
    ids = _store(project, 10)
    _attach(project, ids[0])
    result = run_cleanup(now=NOW)
    assert (result.trimmed_events, result.attachments) == (5, 1)
    assert set(Event.objects.values_list("event_id", flat=True)) == set(ids[5:])
    issue = Issue.objects.get()
    assert (issue.times_seen, issue.user_count) == (10, 10)
    more = _store(project, 2, first=10)
    assert run_cleanup(now=NOW).trimmed_events == 2
    assert set(Event.objects.values_list("event_id", flat=True)) == set(ids[7:] + more)


def test_cap_breaks_timestamp_ties_by_id(make_project):
    project = _project(make_project, cap=2)
    events = [prepared_event(hashes=[A]) for _ in range(4)]
    for event in events:
        event.timestamp = event.received = NOW
    store_events(project.id, events)
    newest = list(Event.objects.order_by("-id").values_list("pk", flat=True)[:2])
    assert run_cleanup(now=NOW).trimmed_events == 2
    assert sorted(Event.objects.values_list("pk", flat=True)) == sorted(newest)


def _event_deletes(queries) -> int:
    return sum(1 for q in queries if q["sql"].startswith('DELETE FROM "issues_event"'))


def test_deletes_in_batches_until_nothing_is_left(make_project):
    project = _project(make_project, days=30)
    _store(project, 10, days_ago=40, hashes=[A])
    _store(project, 12, hashes=[B], first=10)
    project.max_events_per_issue = 2
    project.save()
    with CaptureQueriesContext(connection) as ctx:
        result = run_cleanup(batch_size=3, now=NOW)
    assert (result.expired_events, result.trimmed_events) == (10, 10)
    # 10 expired rows in batches of 3, 3, 3, 1; 10 surplus ones the same way.
    # (plus the expired issue's cascade, which finds no events left).
    assert _event_deletes(ctx.captured_queries) == 8 + 1
    assert Event.objects.count() == 2


def test_expired_issue_without_events_goes_with_its_hashes_tags_and_users(make_project):
    project = _project(make_project, days=90)
    _store(project, 3, days_ago=100, hashes=[A])
    # Seen long ago by its own clock but received now: its event stays, and so does the issue.
    late = prepared_event(hashes=[B], user="late")
    late.timestamp, late.received = NOW - timedelta(days=100), NOW
    store_events(project.id, [late])
    result = run_cleanup(now=NOW)
    assert (result.expired_events, result.issues) == (3, 1)
    survivor = Issue.objects.get()
    assert survivor.hashes.get().hash == B
    assert not GroupHash.objects.filter(hash=A).exists()
    assert set(IssueTag.objects.values_list("issue_id", flat=True)) == {survivor.id}
    assert set(IssueUser.objects.values_list("issue_id", flat=True)) == {survivor.id}
    # The hash of the deleted issue is free again: its next event opens a new issue.
    _store(project, 1, hashes=[A], first=50)
    assert Issue.objects.count() == 2


def test_identical_events_one_issue_exact_counts_whatever_retention_keeps(make_project):
    project = _project(make_project, cap=10)
    for batch in range(5):
        _store(project, 20, first=batch * 20)
        _store(project, 5, first=batch * 20, users=False)  # the same users again, and events without one
        run_cleanup(batch_size=7, now=NOW)
    issue = Issue.objects.get()
    assert (issue.times_seen, issue.user_count, Event.objects.count()) == (125, 100, 10)


def test_lowering_the_cap_applies_to_issues_already_trimmed(make_project):
    project = _project(make_project, cap=5)
    _store(project, 6)
    assert run_cleanup(now=NOW).trimmed_events == 1
    project.max_events_per_issue = 3
    project.save()
    assert run_cleanup(now=NOW).trimmed_events == 2
    assert Event.objects.count() == 3


def test_celery_task_and_command_run_the_cleanup(make_project, capsys):
    project = _project(make_project, days=30)
    _store(project, 2, days_ago=40, hashes=[A])
    _store(project, 2, days_ago=40, hashes=[B])
    cache.set(LOCK_KEY, 1)  # another run is busy: this one does nothing
    assert cleanup_retention.run() == 0 and Event.objects.count() == 4
    cache.delete(LOCK_KEY)
    assert cleanup_retention.run() == 6  # 2 events and their issue, twice
    assert Issue.objects.count() == 0 and cache.get(LOCK_KEY) is None
    _store(project, 3, days_ago=40, hashes=[A])
    call_command("cleanup", "--batch-size", "2")
    assert capsys.readouterr().out.splitlines() == [
        "expired_events 3",
        "trimmed_events 0",
        "attachments 0",
        "issues 1",
        "payload_dictionaries 0",
    ]


def test_task_is_discovered_and_scheduled():
    from django.conf import settings

    from config.celery import app

    app.loader.import_default_modules()
    assert "issues.tasks.cleanup_retention" in app.tasks
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "issues.tasks.cleanup_retention" in tasks


def _idle_run_queries(project, issues: int) -> int:
    _store(project, 2)  # one issue over its cap of 1
    store_events(project.id, [prepared_event(hashes=[f"{n:032x}"]) for n in range(issues)])
    run_cleanup(now=NOW)  # the first pass trims and records where each issue stands
    with CaptureQueriesContext(connection) as ctx:
        assert run_cleanup(now=NOW).deleted == 0
    return len(ctx.captured_queries)


def test_a_pass_with_nothing_to_delete_costs_the_same_few_queries(
    make_project, django_assert_max_num_queries
):
    few, many = (_project(make_project, cap=1, slug=slug) for slug in ("few", "many"))
    queries_few = _idle_run_queries(few, 3)
    queries_many = _idle_run_queries(many, 40)
    # Projects list; per project old events, old attachments, expired issues, payload dictionaries;
    # then issues over the cap.
    assert queries_few == queries_many
    with django_assert_max_num_queries(1 + 3 * 3 + 1):
        run_cleanup(now=NOW)


@override_settings(RETENTION={"EVENT_DAYS": 14, "MAX_EVENTS_PER_ISSUE": 50})
def test_new_projects_take_their_defaults_from_settings(make_project):
    project, _ = make_project(slug="fresh")
    assert (project.retention_days, project.max_events_per_issue) == (14, 50)


def test_settings_page_edits_retention(make_project, client):
    project, _ = make_project()
    owner = user_with_membership(project)
    OrganizationMember.objects.filter(user=owner).update(role="owner")
    client.force_login(owner)
    url = "/organizations/acme/projects/web/settings/"
    data = {"grouping_config": "newstyle:2023-01-11", "max_events_per_issue": 500}
    assert "Keep events for" in client.get(url).content.decode()
    assert client.post(url, {**data, "retention_days": 0}).status_code == 200  # at least one day
    assert client.post(url, {**data, "retention_days": 30}).status_code == 302
    project.refresh_from_db()
    assert (project.retention_days, project.max_events_per_issue) == (30, 500)
