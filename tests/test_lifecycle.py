"""The issue lifecycle (issues/lifecycle.py): manual and automatic changes, each with its activity."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from issues import lifecycle
from issues.lifecycle import IgnoreCondition, LifecycleError
from issues.models import Activity, Event, Issue, IssueSnooze, IssueSubscription
from issues.store import store_events
from issues.tasks import advance_lifecycle, delete_issues
from projects.models import Team
from tests.factories import prepared_event, user_with_membership
from tests.waiting import at_once

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue_and_user(make_project):
    project, _ = make_project()
    store_events(project.id, [prepared_event(user="u0")])
    return Issue.objects.get(), user_with_membership(project, "jane")


def _state(issue: Issue) -> tuple[str, str]:
    issue.refresh_from_db()
    return issue.status, issue.substatus


def _activity(issue: Issue) -> list[tuple[str, str | None]]:
    rows = Activity.objects.filter(issue=issue).order_by("id").select_related("user")
    return [(a.type, a.user.username if a.user else None) for a in rows]


def test_manual_changes_record_the_actor_and_skip_issues_already_there(issue_and_user):
    issue, jane = issue_and_user
    assert lifecycle.resolve([issue.pk], jane) == [issue.pk]
    assert _state(issue) == ("resolved", "") and issue.resolved_at is not None
    assert lifecycle.resolve([issue.pk], jane) == []  # already resolved: no change, no activity
    assert lifecycle.unresolve([issue.pk], jane) == [issue.pk]
    assert _state(issue) == ("unresolved", "ongoing")
    lifecycle.ignore([issue.pk], None, IgnoreCondition())
    assert _state(issue) == ("ignored", "archived_forever")
    lifecycle.unresolve([issue.pk], jane)  # un-ignore
    assert IssueSubscription.objects.get(issue=issue).user == jane  # who changes the status follows it
    assert _activity(issue) == [
        ("set_resolved", "jane"),
        ("set_unresolved", "jane"),
        ("set_ignored", None),
        ("set_unresolved", "jane"),
    ]


def test_status_validation_lives_in_one_place():
    assert lifecycle.parse_status("muted") == "ignored"
    assert lifecycle.parse_status("resolvedInNextRelease") == "resolved"
    for bad in ("resolvedInRelease", "closed", "pending_deletion", None, 3):  # only delete() marks
        with pytest.raises(LifecycleError):
            lifecycle.parse_status(bad)
    with pytest.raises(LifecycleError, match="ignoreWindow needs ignoreCount"):
        lifecycle.parse_ignore_condition({"ignoreWindow": 60})
    assert lifecycle.parse_ignore_condition({"ignoreCount": 10, "ignoreWindow": 60}).details() == {
        "ignoreCount": 10,
        "ignoreWindow": 60,
    }
    for bad in (
        {"ignoreCount": -1},
        {"ignoreDuration": "x"},
        {"ignoreUserCount": True},
        {"inRelease": "1.0"},
        {"ignoreUserCount": 5, "ignoreUserWindow": 24 * 60 + 1},  # users per hour are kept 25 hours
    ):
        with pytest.raises(LifecycleError):
            lifecycle.parse_ignore_condition(bad)
    assert lifecycle.parse_ignore_condition({"ignoreCount": "5"}) == IgnoreCondition(count=5)


def test_a_resolved_issue_regresses_through_the_lifecycle(issue_and_user):
    issue, jane = issue_and_user
    lifecycle.resolve([issue.pk], jane)
    result = store_events(issue.project_id, [prepared_event()])
    assert result.regressed_issue_ids == [issue.pk]
    assert _state(issue) == ("unresolved", "regressed")
    assert _activity(issue)[-1] == ("set_regression", None)
    store_events(issue.project_id, [prepared_event()])
    assert [t for t, _ in _activity(issue)].count("set_regression") == 1


def test_ignore_until_n_more_events_ends_when_the_batch_writer_counts_them(issue_and_user):
    issue, jane = issue_and_user
    lifecycle.ignore([issue.pk], jane, IgnoreCondition(count=3))
    assert _state(issue) == ("ignored", "archived_until_condition_met")
    assert store_events(issue.project_id, [prepared_event(), prepared_event()]).unignored_issue_ids == []
    assert _state(issue)[0] == "ignored"
    result = store_events(issue.project_id, [prepared_event()])
    assert result.unignored_issue_ids == [issue.pk]
    assert _state(issue) == ("unresolved", "escalating")
    last = Activity.objects.filter(issue=issue).latest("id")
    assert last.type == "set_escalating" and last.user is None
    assert last.data["reason"] == "ignore_condition_met" and last.data["expired_snooze"]["count"] == 3
    assert not IssueSnooze.objects.exists()


def test_ignore_until_n_more_users(issue_and_user):
    issue, jane = issue_and_user
    lifecycle.ignore([issue.pk], jane, IgnoreCondition(user_count=2))
    store_events(issue.project_id, [prepared_event(user="u0") for _ in range(5)])  # a known user
    store_events(issue.project_id, [prepared_event(user="u1")])
    assert _state(issue)[0] == "ignored"
    assert store_events(issue.project_id, [prepared_event(user="u2")]).unignored_issue_ids == [issue.pk]
    assert _state(issue) == ("unresolved", "escalating")


def test_ignore_for_a_duration_ends_with_an_event_or_the_scheduler(issue_and_user, make_project):
    issue, jane = issue_and_user
    lifecycle.ignore([issue.pk], jane, IgnoreCondition(minutes=30))
    assert store_events(issue.project_id, [prepared_event()]).unignored_issue_ids == []
    IssueSnooze.objects.update(until=timezone.now() - timedelta(seconds=1))
    assert store_events(issue.project_id, [prepared_event()]).unignored_issue_ids == [issue.pk]
    assert _state(issue) == ("unresolved", "ongoing")
    # Without any event: the scheduled pass.
    lifecycle.ignore([issue.pk], jane, IgnoreCondition(minutes=30))
    assert lifecycle.end_expired_ignores() == []
    assert lifecycle.end_expired_ignores(timezone.now() + timedelta(minutes=31)) == [issue.pk]
    assert _state(issue) == ("unresolved", "ongoing")
    assert _activity(issue)[-1] == ("set_unresolved", None)


def test_new_becomes_ongoing_after_three_days_on_schedule(make_project):
    project, _ = make_project()
    store_events(project.id, [prepared_event(hashes=["a" * 32]), prepared_event(hashes=["b" * 32])])
    old, fresh = Issue.objects.order_by("pk")
    Issue.objects.filter(pk=fresh.pk).update(first_seen=timezone.now() - timedelta(days=2))
    assert advance_lifecycle() == 1  # the task the scheduler (and the embedded runner) runs
    assert _state(old) == ("unresolved", "ongoing") and _state(fresh) == ("unresolved", "new")
    assert _activity(old) == [("auto_set_ongoing", None)]
    assert advance_lifecycle() == 0


def test_assignment_to_members_and_teams_of_the_organization_only(issue_and_user, make_project):
    issue, jane = issue_and_user
    org = issue.project.organization
    team = Team.objects.get(organization=org, slug="web")
    assert lifecycle.find_assignee(org, "jane") == jane
    assert lifecycle.find_assignee(org, f"user:{jane.pk}") == jane
    assert lifecycle.find_assignee(org, "team:web") == team
    assert lifecycle.find_assignee(org, f"team:{team.pk}") == team
    assert lifecycle.find_assignee(org, "") is None
    outsider_project, _ = make_project(org="other", slug="x")
    user_with_membership(outsider_project, "mallory")
    for bad in ("mallory", "user:999999", "team:nope", 5):
        with pytest.raises(LifecycleError):
            lifecycle.find_assignee(org, bad)
    assert lifecycle.assign([issue.pk], None, jane) == [issue.pk]
    assert lifecycle.assign([issue.pk], None, jane) == []
    assert IssueSubscription.objects.filter(issue=issue, user=jane, reason="assigned").exists()
    lifecycle.assign([issue.pk], jane, team)
    issue.refresh_from_db()
    assert (issue.assignee_user, issue.assignee_team) == (None, team)
    lifecycle.assign([issue.pk], jane, None)
    assert [t for t, _ in _activity(issue)] == ["assigned", "assigned", "unassigned"]
    assert Activity.objects.filter(type="assigned").first().data == {
        "assignee": str(jane.pk),
        "assigneeType": "user",
        "assigneeEmail": jane.email,
        "assigneeName": jane.username,
    }


def test_merge_keeps_history_and_records_it_and_unmerge_records_both_sides(make_project):
    project, _ = make_project()
    store_events(project.id, [prepared_event(hashes=["a" * 32]) for _ in range(2)])
    store_events(project.id, [prepared_event(hashes=["b" * 32])])
    big, small = Issue.objects.order_by("pk")
    lifecycle.resolve([small.pk], None)
    parent, children = lifecycle.merge([small, big], None)
    assert parent.pk == big.pk and [c.pk for c in children] == [small.pk]
    assert [t for t, _ in _activity(big)] == ["set_resolved", "merge"]
    assert Activity.objects.get(type="merge").data == {"issues": [{"id": str(small.pk), "shortId": "WEB-2"}]}
    with pytest.raises(LifecycleError):
        lifecycle.merge([big], None)
    new = lifecycle.unmerge(big, ["b" * 32], get_user_model().objects.create_user("ops"))
    assert new is not None
    assert _activity(big)[-1] == ("unmerge_source", "ops") and _activity(new) == [
        ("unmerge_destination", "ops")
    ]


def test_delete_marks_and_the_task_removes_the_issue_with_its_events_and_history(issue_and_user):
    issue, jane = issue_and_user
    store_events(issue.project_id, [prepared_event() for _ in range(4)])
    lifecycle.resolve([issue.pk], jane)
    assert lifecycle.delete([issue.pk], jane) == 1
    assert not Issue.objects.exists() and Issue.all_objects.get().status == Issue.Status.PENDING_DELETION
    assert lifecycle.delete([issue.pk], jane) == 0
    assert delete_issues.run([issue.pk]) == 1  # tests/test_issue_deletion.py has the rest
    assert not Issue.all_objects.exists() and not Activity.objects.exists() and not Event.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_changes_record_each_transition_once(make_project):
    """Several web requests resolving one issue at once, while a batch regresses it: each real
    transition is one activity, whoever wins (the conditional selection under lock decides)."""
    project, _ = make_project()
    store_events(project.id, [prepared_event()])
    issue = Issue.objects.get()
    errors = at_once(lambda: lifecycle.resolve([issue.pk], None))
    assert errors == [] and _state(issue)[0] == "resolved"
    assert Activity.objects.filter(type="set_resolved").count() == 1
    store_events(project.id, [prepared_event()])
    assert [t for t, _ in _activity(issue)] == ["set_resolved", "set_regression"]
