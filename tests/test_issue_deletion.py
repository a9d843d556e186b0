"""Deleting issues as Sentry does: marked pending deletion (hidden at once everywhere), their rows
removed by a task in bounded chunks (issues/deletion.py), lost tasks taken up by the sweep."""

import logging
import threading

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import ApiToken
from core import dispatch
from issues import deletion, lifecycle, store
from issues.models import (
    Activity,
    Event,
    GroupHash,
    Issue,
    IssueBookmark,
    IssueHourBucket,
    IssueTag,
    IssueUser,
)
from issues.store import store_events
from issues.tasks import delete_issues
from tests.factories import prepared_event, user_with_membership

pytestmark = pytest.mark.django_db
PENDING = Issue.Status.PENDING_DELETION
A, B = "a" * 32, "b" * 32


def _client(user) -> Client:
    _, token = ApiToken.issue(user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def two_issues(make_project):
    """acme/web with issue A (5 events, users, tags, a bookmark, history) and issue B (1 event)."""
    project, _ = make_project()
    events = [prepared_event(hashes=[A], user=f"u{i}", tags=[("customer_tier", "gold")]) for i in range(5)]
    store_events(project.id, [*events, prepared_event(hashes=[B], title="Other: x")])
    jane = user_with_membership(project, "jane")
    doomed, kept = Issue.objects.order_by("pk")
    lifecycle.resolve([doomed.pk], jane)
    IssueBookmark.objects.create(issue=doomed, user=jane)
    return project, jane, doomed, kept, events[0].event_id


def _rows_of(issue_id: int) -> dict[str, int]:
    """Rows that refer to the issue, per table (every table with a foreign key to Issue)."""
    counts = {
        model._meta.label: model._base_manager.filter(**{f"{field}_id": issue_id}).count()
        for model, field in deletion._children()
    }
    return {label: n for label, n in counts.items() if n}


def test_a_deleted_issue_is_gone_at_once_from_api_pages_and_search(two_issues, client):
    project, jane, doomed, kept, event_id = two_issues
    api = _client(jane)
    assert api.delete(f"/api/0/issues/{doomed.pk}/").status_code == 202
    doomed.refresh_from_db()
    assert (doomed.status, doomed.substatus) == (PENDING, "")  # marked, not yet removed
    assert _rows_of(doomed.pk)["issues.Event"] == 5 and not GroupHash.objects.filter(issue=doomed).exists()
    for url in (
        f"/api/0/issues/{doomed.pk}/",
        "/api/0/organizations/acme/issues/WEB-1/",
        f"/api/0/issues/{doomed.pk}/events/",
        f"/api/0/projects/acme/web/events/{event_id}/",
        f"/api/0/organizations/acme/eventids/{event_id}/",
    ):
        assert api.get(url).status_code == 404, url
    assert api.delete(f"/api/0/issues/{doomed.pk}/").status_code == 404
    put = api.put(f"/api/0/issues/{doomed.pk}/", {"status": "unresolved"}, content_type="application/json")
    assert put.status_code == 404
    for query in ("", "is:resolved", "customer_tier:gold", "WEB-1"):
        listed = api.get("/api/0/projects/acme/web/issues/", {"query": query, "statsPeriod": ""})
        assert str(doomed.pk) not in {i["id"] for i in listed.json()}, query
    listed = api.get("/api/0/organizations/acme/issues/", {"query": ""})
    assert [i["id"] for i in listed.json()] == [str(kept.pk)] and listed["X-Hits"] == "1"
    events = api.get("/api/0/projects/acme/web/events/").json()
    assert {e["eventID"] for e in events} == {Event.objects.get(issue=kept).event_id}
    client.force_login(jane)
    assert client.get(f"/organizations/acme/projects/web/issues/{doomed.pk}/").status_code == 404
    for query in ("", "is:resolved"):
        page = client.get("/organizations/acme/projects/web/", {"query": query}).content.decode()
        assert f"/issues/{doomed.pk}/" not in page, query
    # No other lifecycle change reaches it: it stays pending deletion.
    assert lifecycle.unresolve([doomed.pk], jane) == [] and lifecycle.delete([doomed.pk], jane) == 0
    doomed.refresh_from_db()
    assert doomed.status == PENDING


def test_the_task_removes_every_row_in_bounded_chunks_and_a_rerun_does_nothing(two_issues, monkeypatch):
    _, jane, doomed, kept, _ = two_issues
    before = _rows_of(doomed.pk)
    assert {"issues.Event", "issues.IssueTag", "issues.IssueUser", "issues.IssueHourBucket"} <= set(before)
    assert {"issues.Activity", "issues.IssueBookmark", "issues.IssueSubscription"} <= set(before)
    kept_rows = _rows_of(kept.pk)
    assert lifecycle.delete([doomed.pk], jane) == 1
    monkeypatch.setattr(deletion, "DELETE_CHUNK", 2)
    with CaptureQueriesContext(connection) as ctx:
        assert delete_issues.run([doomed.pk]) == 1
    assert not Issue.all_objects.filter(pk=doomed.pk).exists() and _rows_of(doomed.pk) == {}
    assert _rows_of(kept.pk) == kept_rows and Issue.objects.get() == kept
    chunks = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('DELETE FROM "issues_event"')]
    assert len(chunks) == 3 + 1  # 5 events, 2 per statement; then the issue's own delete finds none left
    assert all('"issues_event"."id" IN' in sql for sql in chunks[:3])
    assert delete_issues.run([doomed.pk]) == 0  # idempotent: nothing left
    assert delete_issues.run() == 0


def test_the_task_never_touches_an_issue_that_is_not_pending_deletion(two_issues):
    _, _, doomed, kept, _ = two_issues
    assert delete_issues.run([doomed.pk, kept.pk]) == 0
    assert Issue.objects.count() == 2 and IssueTag.objects.filter(issue=doomed).exists()


def test_a_new_event_with_a_deleted_issues_hash_opens_a_new_issue(two_issues):
    project, jane, doomed, _, _ = two_issues
    lifecycle.delete([doomed.pk], jane)
    again = prepared_event(hashes=[A], user="u0")
    result = store_events(project.id, [again])
    (fresh,) = result.new_issue_ids
    assert fresh != doomed.pk and Event.objects.get(event_id=again.event_id).issue_id == fresh
    assert Issue.all_objects.get(pk=doomed.pk).status == PENDING  # not revived
    assert Issue.all_objects.get(pk=doomed.pk).times_seen == 5
    delete_issues.run()
    fresh_issue = Issue.objects.get(pk=fresh)
    assert (fresh_issue.times_seen, fresh_issue.user_count, fresh_issue.short_id) == (1, 1, 3)
    assert (
        GroupHash.objects.get(hash=A).issue_id == fresh and IssueUser.objects.filter(issue=fresh).count() == 1
    )


def test_the_sweep_takes_up_a_mark_whose_task_was_lost(two_issues, monkeypatch):
    """The web process marked and committed, then the message (or the worker) was lost: the
    scheduled run of the task, without ids, removes what is pending."""
    _, jane, doomed, kept, _ = two_issues
    lifecycle.delete([doomed.pk], jane)  # its on_commit request never runs in this test's transaction
    assert delete_issues.run() == 1
    assert not Issue.all_objects.filter(pk=doomed.pk).exists() and Issue.objects.get() == kept


def test_a_worker_killed_mid_deletion_leaves_it_to_the_sweep_once_its_lease_expires(two_issues, monkeypatch):
    _, jane, doomed, _, _ = two_issues
    lifecycle.delete([doomed.pk], jane)
    monkeypatch.setattr(deletion, "DELETE_CHUNK", 2)
    # The killed worker: claimed the issue, deleted one chunk of events, then died holding the lease.
    assert cache.add(deletion._lease_key(doomed.pk), 1, timeout=deletion.LEASE_SECONDS)
    chunk = list(Event.objects.filter(issue=doomed).values_list("pk", flat=True)[:2])
    Event.objects.filter(pk__in=chunk).delete()
    assert delete_issues.run() == 0  # leased: a live worker may still be at it
    assert Issue.all_objects.get(pk=doomed.pk).status == PENDING
    cache.delete(deletion._lease_key(doomed.pk))  # the lease runs out
    assert delete_issues.run() == 1 and _rows_of(doomed.pk) == {}


def test_marking_asks_for_the_task_at_commit_and_the_runner_takes_its_name(
    two_issues, settings, django_capture_on_commit_callbacks
):
    from config.runner import intervals

    _, jane, doomed, _, _ = two_issues
    settings.TASK_DISPATCH = "core.dispatch.LocalDispatch"
    asked: list[str] = []
    dispatch.set_local_handler(asked.append)  # as the embedded runner does (config/runner.py)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            lifecycle.delete([doomed.pk], jane)
            assert asked == []  # not before the mark is committed
    finally:
        dispatch.set_local_handler(None)
    assert asked == [lifecycle.DELETE_TASK]
    # The web process's wake-up datagram names it; the runner takes only names of its schedule.
    assert lifecycle.DELETE_TASK in intervals(settings.CELERY_BEAT_SCHEDULE)


@pytest.mark.redis
def test_with_celery_the_message_carries_the_ids(two_issues, settings, django_capture_on_commit_callbacks):
    import json

    from core.redis_client import get_redis

    _, jane, doomed, _, _ = two_issues
    queue = f"{settings.REDIS_KEY_PREFIX}:celery:celery"
    redis = get_redis()
    redis.delete(queue)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            lifecycle.delete([doomed.pk], jane)
        (message,) = [json.loads(m) for m in redis.lrange(queue, 0, -1)]
        assert message["headers"]["task"] == lifecycle.DELETE_TASK
        args = json.loads(__import__("base64").b64decode(message["body"]))[0]
        assert args == [[doomed.pk]]
    finally:
        redis.delete(queue)


def test_the_deletion_is_logged_with_its_actor(two_issues, caplog):
    _, jane, doomed, _, _ = two_issues
    with caplog.at_level(logging.INFO, logger="issues.lifecycle"):
        lifecycle.delete([doomed.pk], jane)
    assert f"user {jane.pk} deleted 1 issues: [{doomed.pk}]" in caplog.text


def test_bulk_delete_by_query_answers_204_and_hides_only_the_matches(two_issues):
    _, jane, doomed, kept, _ = two_issues
    api = _client(jane)
    response = api.delete("/api/0/projects/acme/web/issues/?query=customer_tier:gold%20is:resolved")
    assert response.status_code == 204
    assert list(Issue.objects.all()) == [kept] and Issue.all_objects.get(pk=doomed.pk).status == PENDING
    assert api.delete(f"/api/0/organizations/acme/issues/?id={kept.pk}").status_code == 204
    assert not Issue.objects.exists()
    assert delete_issues.run() == 2 and not Issue.all_objects.exists() and not Event.objects.exists()
    assert not IssueHourBucket.objects.exists() and not Activity.objects.exists()


def test_the_issue_pages_bulk_delete_marks_too(two_issues, client):
    _, jane, doomed, kept, _ = two_issues
    client.force_login(jane)
    bulk = "/organizations/acme/projects/web/bulk/"
    response = client.post(bulk, {"issue": [doomed.pk], "action": "delete", "confirm": "yes"})
    assert response.status_code == 302 and list(Issue.objects.all()) == [kept]
    assert Issue.all_objects.get(pk=doomed.pk).status == PENDING


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_batch_that_read_the_hash_before_the_mark_puts_its_event_in_a_new_issue(two_issues, monkeypatch):
    """PostgreSQL: a batch looked the hash up, then the deletion committed before the batch locked
    the issue. The batch starts over and the event opens a new issue, never lost with the old one."""
    project, jane, doomed, _, _ = two_issues
    looked_up, marked = threading.Event(), threading.Event()
    original = store._resolve_issues
    calls = []

    def resolve_then_wait(*args):
        found = original(*args)
        calls.append(found)
        if len(calls) == 1:
            looked_up.set()
            marked.wait(10)
        return found

    monkeypatch.setattr(store, "_resolve_issues", resolve_then_wait)
    late = prepared_event(hashes=[A])
    results = []

    def batch():
        try:
            results.append(store_events(project.id, [late]))
        finally:
            connection.close()

    worker = threading.Thread(target=batch)
    worker.start()
    assert looked_up.wait(10)
    assert lifecycle.delete([doomed.pk], jane) == 1
    marked.set()
    worker.join(10)
    assert len(calls) == 2 and calls[0][0][late.event_id] == doomed.pk
    event = Event.objects.get(event_id=late.event_id)
    assert event.issue_id != doomed.pk and Issue.objects.get(pk=event.issue_id).times_seen == 1
    assert results[0].new_issue_ids == [event.issue_id]


def test_an_alert_about_an_issue_deleted_since_is_not_sent_nor_retried(two_issues):
    from django.utils import timezone

    from alerts.delivery import deliver_due
    from alerts.models import AlertFire, AlertRule, Notification

    project, jane, doomed, _, _ = two_issues
    now = timezone.now()
    fire = AlertFire.objects.create(project=project, rule=AlertRule.objects.get(project=project), issue=doomed,
                                    occurrence="new", trigger="new", reason="A new issue was created", created=now)  # fmt: skip
    Notification.objects.create(project=project, fire=fire, key="k", channel="email", target="a@example.com",
                                status="pending", next_attempt_at=now, created=now)  # fmt: skip
    lifecycle.delete([doomed.pk], jane)
    assert deliver_due(now=now) == (0, False)
    notification = Notification.objects.get()
    assert (notification.status, notification.attempts) == ("failed", 1)
    assert "DoesNotExist" in notification.last_error
    delete_issues.run()
    assert not Notification.objects.exists() and not AlertFire.objects.exists()


def test_a_merge_read_before_the_deletion_does_not_take_the_deleted_issues_events(two_issues):
    from issues.merge import merge_issues

    _, jane, doomed, kept, _ = two_issues
    lifecycle.delete([doomed.pk], jane)  # after the page or API read both issues
    assert merge_issues(kept, [doomed]) == kept
    assert Event.objects.filter(issue=doomed).count() == 5 and Issue.objects.get(pk=kept.pk).times_seen == 1
    assert merge_issues(doomed, [kept]) == doomed and Event.objects.filter(issue=kept).count() == 1
