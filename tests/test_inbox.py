"""The review inbox (issues/inbox.py, Sentry's GroupInbox) behind `is:for_review`: who enters it and
why, who leaves it, its 7-day expiry, the API's `inbox` field and `inbox: false`, and the pages'
"Mark reviewed"."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from issues import inbox, lifecycle
from issues.lifecycle import IgnoreCondition
from issues.models import Activity, Issue, IssueInbox, IssueSnooze
from issues.search import apply_query
from issues.store import store_events
from issues.tasks import advance_lifecycle
from tests.factories import prepared_event, user_with_membership
from tests.waiting import at_once

pytestmark = pytest.mark.django_db
Reason = IssueInbox.Reason


@pytest.fixture
def two(make_project):
    """Two new issues of acme/web and jane, a member."""
    project, _ = make_project()
    store_events(project.id, [prepared_event(hashes=["a" * 32]), prepared_event(hashes=["b" * 32])])
    return project, user_with_membership(project, "jane"), list(Issue.objects.order_by("pk"))


def _reason(issue: Issue) -> int | None:
    row = IssueInbox.objects.filter(issue=issue).first()
    return None if row is None else row.reason


def _for_review(project, query: str = "is:for_review") -> set[int]:
    return set(apply_query(Issue.objects.filter(project=project), query).values_list("pk", flat=True))


def test_a_new_issue_enters_once_and_keeps_its_first_reason(two):
    project, jane, (a, b) = two
    assert _reason(a) == _reason(b) == Reason.NEW
    entry = IssueInbox.objects.get(issue=a)
    assert entry.reason_details is None and timezone.now() - entry.date_added < timedelta(minutes=1)
    store_events(project.id, [prepared_event(hashes=["a" * 32])])  # more events: no second row, same date
    assert IssueInbox.objects.get(issue=a).date_added == entry.date_added
    lifecycle.add_to_inbox([a.pk], jane)  # already in: the reason stays
    assert _reason(a) == Reason.NEW and IssueInbox.objects.count() == 2
    assert _for_review(project) == {a.pk, b.pk}
    assert _for_review(project, "!is:for_review") == set()


def test_resolve_and_ignore_take_issues_out_and_a_regression_puts_them_back(two):
    project, jane, (a, b) = two
    lifecycle.resolve([a.pk], jane)
    lifecycle.ignore([b.pk], jane, IgnoreCondition())
    assert IssueInbox.objects.count() == 0 and _for_review(project) == set()
    store_events(project.id, [prepared_event(hashes=["a" * 32])])
    assert (Issue.objects.get(pk=a.pk).substatus, _reason(a)) == ("regressed", Reason.REGRESSION)
    assert _for_review(project) == {a.pk}
    # A manual unresolve or un-ignore does not put an issue in (as in Sentry).
    lifecycle.unresolve([b.pk], jane)
    assert _reason(b) is None
    assert not Activity.objects.filter(type="mark_reviewed").exists()  # nobody reviewed anything


def test_an_ended_ignore_enters_as_escalating_or_ongoing_with_what_the_ignore_was(two):
    project, jane, (a, b) = two
    lifecycle.ignore([a.pk], jane, IgnoreCondition(count=1))
    lifecycle.ignore([b.pk], jane, IgnoreCondition(minutes=30))
    store_events(project.id, [prepared_event(hashes=["a" * 32])])
    entry = IssueInbox.objects.get(issue=a)
    assert entry.reason == Reason.ESCALATING and entry.reason_details["count"] == 1
    IssueSnooze.objects.update(until=timezone.now() - timedelta(seconds=1))
    assert lifecycle.end_expired_ignores() == [b.pk]
    entry = IssueInbox.objects.get(issue=b)
    assert entry.reason == Reason.ONGOING and entry.reason_details["until"] is not None
    assert _for_review(project) == {a.pk, b.pk}


def test_mark_reviewed_records_the_reviewer_and_makes_the_issue_ongoing(two):
    project, jane, (a, b) = two
    assert lifecycle.mark_reviewed([a.pk], jane) == [a.pk]
    assert _reason(a) is None and _for_review(project) == {b.pk}
    assert Issue.objects.get(pk=a.pk).substatus == "ongoing" and Issue.objects.get(pk=b.pk).substatus == "new"
    rows = Activity.objects.filter(issue=a).order_by("id")
    assert [(r.type, r.user, r.data) for r in rows] == [
        ("mark_reviewed", jane, {}),
        ("auto_set_ongoing", jane, {"manually": True}),
    ]
    assert lifecycle.mark_reviewed([a.pk], jane) == []  # not in it any more: nothing recorded
    assert Activity.objects.filter(issue=a).count() == 2
    lifecycle.add_to_inbox([a.pk], jane)
    assert _reason(a) == Reason.MANUAL and _for_review(project) == {a.pk, b.pk}


@pytest.mark.django_db(transaction=True)
def test_concurrent_reviews_record_one_review(make_project):
    """Four requests marking one issue reviewed at once: one `mark_reviewed`, one `auto_set_ongoing`."""
    project, _ = make_project()
    store_events(project.id, [prepared_event()])
    issue = Issue.objects.get()
    jane = user_with_membership(project, "jane")
    errors = at_once(lambda: lifecycle.mark_reviewed([issue.pk], jane))
    assert errors == [] and not IssueInbox.objects.exists()
    assert sorted(Activity.objects.values_list("type", flat=True)) == ["auto_set_ongoing", "mark_reviewed"]


def test_entries_expire_after_7_days_in_the_search_at_once_and_on_schedule(two):
    project, jane, (a, b) = two
    IssueInbox.objects.filter(issue=a).update(date_added=timezone.now() - timedelta(days=7, minutes=1))
    assert _for_review(project) == {b.pk}  # before the scheduler ran
    assert set(inbox.entries([a.pk, b.pk])) == {b.pk}
    assert lifecycle.mark_reviewed([a.pk], jane) == []  # expired: not reviewed by anyone
    IssueInbox.objects.create(issue=a, date_added=timezone.now() - timedelta(days=8))
    assert lifecycle.expire_inbox() == 1 and lifecycle.expire_inbox() == 0  # idempotent
    IssueInbox.objects.create(issue=a, date_added=timezone.now() - timedelta(days=8))
    advance_lifecycle()  # the scheduled task (and the embedded runner) runs the expiry
    assert list(IssueInbox.objects.values_list("issue_id", flat=True)) == [b.pk]
    IssueInbox.objects.filter(issue=b).update(date_added=timezone.now() - timedelta(days=8))
    lifecycle.add_to_inbox([b.pk], jane)  # an expired row the scheduler has not deleted is replaced
    assert _for_review(project) == {b.pk} and _reason(b) == Reason.MANUAL


def test_deleting_an_issue_deletes_its_entry(two):
    """Deletion marks the issue (gone from For review at once) and the task removes its entry."""
    from issues.search import apply_query
    from issues.tasks import delete_issues

    _, jane, (a, b) = two
    lifecycle.delete([a.pk], jane)
    assert list(apply_query(Issue.objects.all(), "is:for_review", jane).values_list("pk", flat=True)) == [
        b.pk
    ]
    delete_issues.run([a.pk])
    assert list(IssueInbox.objects.values_list("issue_id", flat=True)) == [b.pk]


# --- API ---


def _api(user) -> Client:
    _, token = ApiToken.issue(user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_the_api_gives_inbox_with_expand_and_marks_reviewed_with_inbox_false(two):
    project, jane, (a, b) = two
    api = _api(jane)
    listed = api.get("/api/0/projects/acme/web/issues/", {"expand": "inbox"}).json()
    entry = {i["id"]: i["inbox"] for i in listed}[str(a.pk)]
    assert entry["reason"] == 0 and entry["reason_details"] is None and entry["date_added"].endswith("Z")
    assert "inbox" not in api.get("/api/0/projects/acme/web/issues/").json()[0]  # only when expanded
    response = api.put(f"/api/0/issues/{a.pk}/", {"inbox": False}, content_type="application/json")
    assert response.status_code == 200 and response.json()["inbox"] is False
    assert _reason(a) is None
    mark = Activity.objects.get(issue=a, type="mark_reviewed")
    assert mark.user == jane
    detail = api.get(f"/api/0/issues/{a.pk}/", {"expand": "inbox"}).json()
    assert detail["inbox"] is None and detail["substatus"] == "ongoing"
    assert detail["activity"][1]["type"] == "mark_reviewed"
    assert api.get(f"/api/0/issues/{b.pk}/", {"expand": "inbox"}).json()["inbox"]["reason"] == 0
    found = api.get("/api/0/projects/acme/web/issues/", {"query": "is:for_review"}).json()
    assert [i["id"] for i in found] == [str(b.pk)]


def test_bulk_inbox_changes_and_a_resolve_answers_inbox_null(two):
    project, jane, (a, b) = two
    api = _api(jane)
    url = f"/api/0/organizations/acme/issues/?id={a.pk}&id={b.pk}"
    response = api.put(url, {"inbox": False}, content_type="application/json")
    assert response.status_code == 200 and response.json() == {"inbox": False}
    assert IssueInbox.objects.count() == 0
    assert Activity.objects.filter(type="mark_reviewed").count() == 2
    response = api.put(url, {"inbox": True}, content_type="application/json")
    assert response.json() == {"inbox": True} and {_reason(a), _reason(b)} == {Reason.MANUAL}
    response = api.put(f"/api/0/issues/{a.pk}/", {"status": "resolved"}, content_type="application/json")
    assert response.json()["inbox"] is None and _reason(a) is None
    bad = api.put(url, {"inbox": "no"}, content_type="application/json")
    assert bad.status_code == 400 and "inbox" in bad.json()["detail"]


# --- Pages ---


def test_the_list_shows_the_reason_and_marks_reviewed_in_bulk(two, client):
    project, jane, (a, b) = two
    client.force_login(jane)
    html = client.get("/organizations/acme/projects/web/", {"query": "is:for_review"}).content.decode()
    assert html.count("For review · New issue") == 2 and 'value="reviewed"' in html
    response = client.post(
        "/organizations/acme/projects/web/bulk/",
        {"action": "reviewed", "issue": [str(a.pk)], "query": "is:for_review"},
    )
    assert response.status_code == 302 and _reason(a) is None and _reason(b) == Reason.NEW
    html = client.get("/organizations/acme/projects/web/", {"query": "is:for_review"}).content.decode()
    assert html.count("For review · New issue") == 1


def test_the_issue_page_marks_reviewed(two, client):
    project, jane, (a, _b) = two
    client.force_login(jane)
    page = f"/organizations/acme/projects/web/issues/{a.pk}/"
    html = client.get(page).content.decode()
    assert "Mark reviewed" in html and "For review · New issue" in html
    assert client.post(f"{page}reviewed/toggle/", {"on": "1"}).status_code == 302
    html = client.get(page).content.decode()
    assert "Mark reviewed" not in html and "marked the issue as reviewed" in html
    assert _reason(a) is None
