"""Resolving in a release or in the next one, archiving until escalating, and ignore windows: the
lifecycle's rules as the batch writer applies them (issues/resolutions.py, issues/ignores.py)."""

from dataclasses import replace
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from issues import lifecycle
from issues.buckets import hour_of
from issues.ignores import IgnoreCondition
from issues.models import Activity, Issue, IssueHourBucket, IssueInbox, IssueResolution
from issues.resolutions import ReleaseResolution
from issues.store import store_events
from releases.models import Release
from tests.factories import prepared_event, user_with_membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def project_and_user(make_project):
    project, _ = make_project()
    return project, user_with_membership(project, "jane")


def _release(project, version: str, days_ago: int) -> Release:
    return Release.objects.create(
        organization=project.organization,
        version=version,
        date_added=timezone.now() - timedelta(days=days_ago),
    )


def _event(hash_char: str = "a", release: str = "1.0", minutes_ago: int = 0, user: str = ""):
    received = timezone.now() - timedelta(minutes=minutes_ago)
    return replace(prepared_event(hashes=[hash_char * 32], release=release, user=user), received=received)


def _state(issue_id: int) -> tuple[str, str]:
    issue = Issue.objects.get(pk=issue_id)
    return issue.status, issue.substatus


def test_resolved_in_the_next_release_regresses_only_on_a_newer_release(project_and_user):
    project, jane = project_and_user
    _release(project, "0.9", days_ago=3)
    _release(project, "1.0", days_ago=1)
    store_events(project.id, [_event(release="1.0")])
    issue = Issue.objects.get()
    assert lifecycle.resolve([issue.pk], jane, ReleaseResolution()) == [issue.pk]
    # The release current at the resolve, an older one, or none: still resolved.
    for version in ("1.0", "0.9", ""):
        assert store_events(project.id, [_event(release=version)]).regressed_issue_ids == []
        assert _state(issue.pk) == ("resolved", "")
    # A release created after the resolve (here by the event itself) reopens it.
    assert store_events(project.id, [_event(release="1.1")]).regressed_issue_ids == [issue.pk]
    assert _state(issue.pk) == ("unresolved", "regressed")
    assert not IssueResolution.objects.exists()
    types = list(Activity.objects.filter(issue=issue).order_by("id").values_list("type", "data"))
    assert types == [("set_resolved_in_release", {"version": ""}), ("set_regression", {})]


def test_resolved_in_a_release_regresses_on_releases_created_after_it(project_and_user):
    project, jane = project_and_user
    old, chosen, newer = _release(project, "1.0", 5), _release(project, "1.1", 3), _release(project, "1.2", 1)
    store_events(project.id, [_event("a", release="1.0"), _event("b", release="1.0")])
    first, second = Issue.objects.order_by("pk")
    lifecycle.resolve([first.pk, second.pk], jane, ReleaseResolution(chosen))
    # Both releases of the batch are 1.1 or older for the first issue; the second gets 1.2 too.
    batch = [_event("a", release=old.version), _event("a", release="1.1")]
    batch += [_event("b", release=old.version), _event("b", release=newer.version)]
    assert store_events(project.id, batch).regressed_issue_ids == [second.pk]
    assert _state(first.pk) == ("resolved", "") and _state(second.pk) == ("unresolved", "regressed")
    resolution = IssueResolution.objects.get()
    assert (resolution.issue_id, resolution.type, resolution.release, resolution.actor) == (
        first.pk, "in_release", chosen, jane,
    )  # fmt: skip
    # A plain resolve replaces the release resolution: then any event regresses.
    assert lifecycle.resolve([first.pk], jane) == [first.pk]
    assert store_events(project.id, [_event("a", release="1.0")]).regressed_issue_ids == [first.pk]


def test_release_aware_regression_is_set_based(project_and_user):
    """The resolutions and the releases' creation times are read once for the whole batch."""
    project, jane = project_and_user
    _release(project, "1.0", 2)
    store_events(project.id, [_event(c) for c in "abcdef"])
    lifecycle.resolve(list(Issue.objects.values_list("pk", flat=True)), jane, ReleaseResolution())
    with CaptureQueriesContext(connection) as queries:
        result = store_events(project.id, [_event(c, release=v) for c in "abcdef" for v in ("1.0", "")])
    assert result.regressed_issue_ids == []
    sql = [q["sql"] for q in queries.captured_queries]
    assert len([q for q in sql if "issues_issueresolution" in q]) == 1
    assert len([q for q in sql if '"releases_release"."date_added"' in q]) == 1


def test_archived_until_escalating_escalates_above_its_own_hourly_rate(project_and_user):
    project, jane = project_and_user
    store_events(project.id, [_event("a", minutes_ago=60 * 24 * 8), _event("b", minutes_ago=60 * 24 * 8)])
    busy, quiet = Issue.objects.order_by("pk")
    # `busy` averaged 10 events an hour over the last 7 days: it escalates above 50 in an hour.
    end = hour_of(timezone.now() - timedelta(hours=1))
    IssueHourBucket.objects.bulk_create(
        IssueHourBucket(issue=busy, project_id=busy.project_id, hour=end - timedelta(hours=h), times_seen=10)
        for h in range(1, 169)
    )
    lifecycle.ignore([busy.pk, quiet.pk], jane, IgnoreCondition(until_escalating=True))
    assert _state(busy.pk) == ("ignored", "archived_until_escalating")
    assert store_events(project.id, [_event("a") for _ in range(50)]).unignored_issue_ids == []
    assert store_events(project.id, [_event("b") for _ in range(10)]).unignored_issue_ids == []
    assert _state(busy.pk)[0] == _state(quiet.pk)[0] == "ignored"
    # 51 events in the last hour > 5 x 10; 11 > the floor of 10 for the issue without history.
    result = store_events(project.id, [_event("a"), _event("b")])
    assert result.unignored_issue_ids == [busy.pk, quiet.pk]
    assert _state(busy.pk) == _state(quiet.pk) == ("unresolved", "escalating")
    last = Activity.objects.filter(issue=busy).latest("id")
    assert (last.type, last.user, last.data["reason"]) == ("set_escalating", None, "escalating")
    assert busy.inbox.reason == IssueInbox.Reason.ESCALATING and busy.inbox.reason_details is None
    ignored = Activity.objects.get(issue=busy, type="set_ignored")
    assert ignored.data == {"ignoreUntilEscalating": True}


def test_ignore_until_n_events_within_a_window_reads_the_buckets(project_and_user):
    project, jane = project_and_user
    store_events(project.id, [_event("a", minutes_ago=300)])
    issue = Issue.objects.get()
    lifecycle.ignore([issue.pk], jane, IgnoreCondition(count=3, window=60))
    # Four more events, but two arrived 2 hours ago: only two fall in the window.
    old = [_event("a", minutes_ago=120), _event("a", minutes_ago=121)]
    assert store_events(project.id, [*old, _event("a"), _event("a")]).unignored_issue_ids == []
    assert _state(issue.pk) == ("ignored", "archived_until_condition_met")
    assert store_events(project.id, [_event("a", minutes_ago=5)]).unignored_issue_ids == [issue.pk]
    assert _state(issue.pk) == ("unresolved", "escalating")
    snooze = Activity.objects.filter(issue=issue).latest("id").data["expired_snooze"]
    assert (snooze["count"], snooze["window"]) == (3, 60)


def test_ignore_until_n_users_within_a_window(project_and_user):
    project, jane = project_and_user
    store_events(project.id, [_event("a", minutes_ago=300, user="u0")])
    issue = Issue.objects.get()
    lifecycle.ignore([issue.pk], jane, IgnoreCondition(user_count=2, user_window=60))
    # u1 is new to the issue but came 3 hours ago; u0 comes again now: one user within the hour.
    batch = [_event("a", minutes_ago=180, user="u1"), _event("a", user="u0")]
    assert store_events(project.id, batch).unignored_issue_ids == []
    assert store_events(project.id, [_event("a", user="u0")]).unignored_issue_ids == []
    assert store_events(project.id, [_event("a", user="u2")]).unignored_issue_ids == [issue.pk]
    assert _state(issue.pk) == ("unresolved", "escalating")
