"""The batch writer: grouping into issues, exact counters, idempotency, regressions."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from issues import lifecycle
from issues.models import Event, GroupHash, Issue, IssueTag
from issues.store import store_events
from tests.factories import prepared_event

pytestmark = pytest.mark.django_db


def test_identical_hashes_make_one_issue_with_exact_counts(make_project):
    project, _ = make_project()
    events = [prepared_event(user=f"user-{i % 7}") for i in range(50)]
    result = store_events(project.id, events)
    issue = Issue.objects.get()
    assert result.stored == 50 and result.new_issue_ids == [issue.id]
    assert (issue.times_seen, issue.user_count) == (50, 7)
    assert issue.short_id == 1 and issue.short_id_display == "WEB-1"
    assert issue.first_seen == min(e.timestamp for e in events)
    assert issue.last_seen == max(e.timestamp for e in events)


def test_redelivered_batch_changes_nothing(make_project):
    project, _ = make_project()
    events = [prepared_event(user="u1"), prepared_event(user="u2")]
    store_events(project.id, events)
    again = store_events(project.id, events)
    issue = Issue.objects.get()
    assert again.stored == 0 and again.new_issue_ids == []
    assert (issue.times_seen, issue.user_count, Event.objects.count()) == (2, 2, 2)
    assert IssueTag.objects.get(key="level").times_seen == 2


def test_duplicate_event_id_inside_a_batch_is_stored_once(make_project):
    project, _ = make_project()
    event = prepared_event()
    assert store_events(project.id, [event, event]).stored == 1
    assert Issue.objects.get().times_seen == 1


def test_any_matching_hash_joins_the_issue_and_new_hashes_attach(make_project):
    project, _ = make_project()
    store_events(project.id, [prepared_event(hashes=["a" * 32, "b" * 32])])
    store_events(project.id, [prepared_event(hashes=["c" * 32, "b" * 32])])
    issue = Issue.objects.get()
    assert issue.times_seen == 2
    assert set(GroupHash.objects.values_list("hash", flat=True)) == {"a" * 32, "b" * 32, "c" * 32}


def test_different_hashes_make_different_issues_with_sequential_short_ids(make_project):
    project, _ = make_project()
    store_events(project.id, [prepared_event(hashes=["a" * 32]), prepared_event(hashes=["b" * 32])])
    store_events(project.id, [prepared_event(hashes=["c" * 32])])
    assert sorted(Issue.objects.values_list("short_id", flat=True)) == [1, 2, 3]


def test_resolved_issue_regresses_on_a_new_event(make_project):
    project, _ = make_project()
    store_events(project.id, [prepared_event()])
    issue = Issue.objects.get()
    lifecycle.set_status([issue.pk], None, Issue.Status.RESOLVED)
    result = store_events(project.id, [prepared_event(), prepared_event()])
    issue.refresh_from_db()
    assert result.regressed_issue_ids == [issue.id]
    assert (issue.status, issue.substatus, issue.times_seen) == ("unresolved", "regressed", 3)
    # A further event on the already-reopened issue is not a second regression.
    assert store_events(project.id, [prepared_event()]).regressed_issue_ids == []


def test_tags_are_counted_per_value(make_project):
    project, _ = make_project()
    store_events(project.id, [prepared_event(tags=[("browser", "Chrome")]) for _ in range(3)])
    store_events(project.id, [prepared_event(tags=[("browser", "Firefox")])])
    counts = dict(IssueTag.objects.filter(key="browser").values_list("value", "times_seen"))
    assert counts == {"Chrome": 3, "Firefox": 1}


def test_releases_first_and_last(make_project):
    project, _ = make_project()
    store_events(project.id, [prepared_event(release="1.0", seconds=10)])
    store_events(project.id, [prepared_event(release="1.1", seconds=20)])
    store_events(project.id, [prepared_event(release="0.9", seconds=5)])  # late arrival of an old event
    issue = Issue.objects.get()
    assert (issue.first_release, issue.last_release) == ("1.0", "1.1")


def test_a_batch_of_100_events_costs_a_bounded_number_of_queries(make_project):
    project, _ = make_project()
    events = [prepared_event(hashes=[f"{i % 10:032d}"], user=f"u{i}") for i in range(100)]
    with CaptureQueriesContext(connection) as queries:
        store_events(project.id, events)
    assert Issue.objects.count() == 10 and sum(Issue.objects.values_list("times_seen", flat=True)) == 100
    # Set-based writes: the statement count grows with the number of issues, not of events
    # (4 of them record the batch's releases and environments, whatever their number; 3 the issue
    # time buckets, issues/buckets.py; 1 the new issues' review inbox rows, issues/inbox.py; 1 the
    # user reports waiting for the batch's events, feedback/store.py).
    assert len(queries) <= 48, [q["sql"][:80] for q in queries]


def test_users_keep_their_identifiers_and_gain_missing_ones_without_being_counted_again(make_project):
    from issues.models import IssueUser

    project, _ = make_project()
    first = [
        prepared_event(sdk_user={"id": "1"}),
        prepared_event(sdk_user={"id": "1", "username": "ann"}),  # same batch: the row gets both
        prepared_event(sdk_user={"email": "bo@example.com", "ip_address": "10.0.0.2"}),
        prepared_event(sdk_user={"id": "x" * 300, "email": "\x00" + "e" * 100}),  # cut to the columns
    ]
    store_events(project.id, first)
    later = [prepared_event(sdk_user={"id": "1", "email": "ann@example.com", "username": "other"})]
    with CaptureQueriesContext(connection) as queries:
        store_events(project.id, later + [prepared_event(sdk_user={"id": "3"})])
    issue = Issue.objects.get()
    assert issue.user_count == 4  # the filled row is not a new user; id 3 is
    rows = IssueUser.objects.values_list("ident", "email", "username", "ip_address")
    assert sorted(rows, key=str) == sorted(
        [
            ("1", "ann@example.com", "ann", None),  # email filled in, the first username kept
            (None, "bo@example.com", None, "10.0.0.2"),
            ("x" * 128, "\ufffd" + "e" * 74, None, None),
            ("3", None, None, None),
        ],
        key=str,
    )
    assert not IssueTag.objects.filter(key__startswith="sentry:").exists()
    writes = [
        q["sql"] for q in queries if "issues_issueuser" in q["sql"] and not q["sql"].startswith("SELECT")
    ]
    assert sum(sql.startswith("INSERT") for sql in writes) == 1 and not any("UPDATE" in w[:7] for w in writes)
