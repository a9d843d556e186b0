"""User feedback in the API (Sentry's user report endpoints and fields, issue `userReportCount`,
event `userReport`) and on the pages, where what people wrote is escaped."""

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ApiToken
from feedback.models import UserReport
from issues import lifecycle
from issues.models import Issue
from issues.store import store_events
from issues.user_reports import store_user_reports
from tests.factories import prepared_event, prepared_report, user_with_membership

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
FIELDS = {"id", "eventID", "name", "email", "comments", "dateCreated", "user", "event", "issue"}


@pytest.fixture
def jane(make_project, client):
    project, key = make_project()
    user = user_with_membership(project, "jane")
    client.force_login(user)
    _, token = ApiToken.issue(user)
    return project, key, client, Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def _issue_with_reports(project, count: int, hash_: str = "a" * 32, comments: str = "It broke.") -> Issue:
    events = [prepared_event(hashes=[hash_]) for _ in range(count)]
    store_events(project.id, events)
    reports = [prepared_report(e.event_id, f"{comments} {n}", e.received) for n, e in enumerate(events)]
    store_user_reports(project.id, reports)
    return Issue.objects.get(hashes__hash=hash_)


def _now_event(project):
    """An event stored just now (the submit endpoint refuses feedback on events over 30 minutes old)."""
    now = timezone.now()
    event = replace(prepared_event(hashes=["c" * 32]), timestamp=now, received=now)
    store_events(project.id, [event])
    return event


def test_project_list_has_sentrys_fields_with_the_issue_and_only_unresolved_issues_by_default(jane):
    project, _, _, api = jane
    issue = _issue_with_reports(project, 2)
    resolved = _issue_with_reports(project, 1, "b" * 32, "other")
    lifecycle.resolve([resolved.pk], None)
    store_user_reports(project.id, [prepared_report(uuid.uuid4().hex, "about nothing")])
    response = api.get("/api/0/projects/acme/web/user-feedback/")
    assert response.status_code == 200
    body = response.json()
    assert [r["comments"] for r in body] == ["It broke. 1", "It broke. 0"]
    assert set(body[0]) == FIELDS
    first = body[0]
    assert (first["name"], first["email"], first["user"]) == ("Jane", "jane@example.com", None)
    assert first["event"] == {"id": first["eventID"], "eventID": first["eventID"]}
    assert first["issue"]["id"] == str(issue.pk) and first["issue"]["userReportCount"] == 2
    assert first["dateCreated"].endswith("Z")
    everything = api.get("/api/0/projects/acme/web/user-reports/", {"status": ""}).json()
    assert len(everything) == 3  # every issue's; feedback about no event only on the page
    assert api.get("/api/0/projects/acme/web/user-feedback/", {"status": "nope"}).status_code == 400


def test_issue_user_reports_and_issue_and_event_objects(jane):
    project, _, _, api = jane
    issue = _issue_with_reports(project, 3)
    reports = api.get(f"/api/0/issues/{issue.pk}/user-reports/").json()
    assert len(reports) == 3 and set(reports[0]) == FIELDS - {"issue"}
    assert api.get(f"/api/0/organizations/acme/issues/{issue.pk}/user-reports/").status_code == 200
    assert api.get(f"/api/0/issues/{issue.pk}/").json()["userReportCount"] == 3
    listed = api.get("/api/0/projects/acme/web/issues/").json()
    assert [i["userReportCount"] for i in listed] == [3]
    latest = api.get(f"/api/0/issues/{issue.pk}/events/latest/").json()
    assert latest["userReport"]["eventID"] == latest["eventID"]
    full = api.get(f"/api/0/issues/{issue.pk}/events/", {"full": "1"}).json()
    assert all(e["userReport"]["eventID"] == e["eventID"] for e in full)


def test_reports_of_an_issue_are_404_for_outsiders(jane, make_project):
    project, _, _, _ = jane
    issue = _issue_with_reports(project, 1)
    other, _ = make_project(org="theirs", slug="secret")
    outsider = user_with_membership(other, "otto")
    client = Client()
    client.force_login(outsider)
    assert client.get(f"/api/0/issues/{issue.pk}/user-reports/").status_code == 404
    assert client.get("/api/0/projects/acme/web/user-feedback/").status_code == 404
    assert client.get(f"/organizations/acme/projects/web/issues/{issue.pk}/feedback/").status_code == 404


def test_submit_with_the_dsn_links_to_the_event_and_answers_an_empty_200(jane):
    project, key, _, _ = jane
    event = _now_event(project)
    dsn = Client(HTTP_AUTHORIZATION=f"DSN {key.dsn()}")
    body = {"event_id": event.event_id, "name": "Jane", "email": "jane@example.com", "comments": "Broke"}
    response = dsn.post("/api/0/projects/acme/web/user-feedback/", body, content_type="application/json")
    assert response.status_code == 200, response.content
    report = UserReport.objects.get()
    assert (report.issue_id, report.comments) == (Issue.objects.get().pk, "Broke")
    # A DSN may submit, never read (Sentry: 401).
    assert dsn.get("/api/0/projects/acme/web/user-feedback/").status_code == 401
    # A retry within 5 minutes replaces the text.
    again = {**body, "comments": "Broke twice"}
    assert (
        dsn.post("/api/0/projects/acme/web/user-reports/", again, content_type="application/json").status_code
        == 200
    )
    assert UserReport.objects.get().comments == "Broke twice"


def test_submit_refuses_bad_fields_other_projects_keys_and_unknown_dsns(jane, make_project):
    project, _, _, _ = jane
    _, other_key = make_project(slug="other")
    good = {"event_id": uuid.uuid4().hex, "name": "Jane", "email": "jane@example.com", "comments": "x"}
    other = Client(HTTP_AUTHORIZATION=f"DSN {other_key.dsn()}")
    path = "/api/0/projects/acme/web/user-feedback/"
    assert other.post(path, good, content_type="application/json").status_code == 400
    unknown = Client(HTTP_AUTHORIZATION="DSN http://" + "0" * 32 + "@localhost/1")
    assert unknown.post(path, good, content_type="application/json").status_code == 401
    _, key, _, _ = jane
    dsn = Client(HTTP_AUTHORIZATION=f"DSN {key.dsn()}")
    for bad, field in [
        ({**good, "email": "not-an-email"}, "email"),
        ({**good, "name": "n" * 129}, "name"),
        ({**good, "event_id": "xyz"}, "event_id"),
        ({k: v for k, v in good.items() if k != "comments"}, "comments"),
    ]:
        response = dsn.post(path, bad, content_type="application/json")
        assert response.status_code == 400 and field in response.json(), (field, response.content)
    assert not UserReport.objects.exists()


def test_submit_is_409_on_an_old_event_or_an_old_report_and_answers_the_report_to_a_user(jane):
    project, _, _, api = jane
    old = prepared_event()  # received long ago
    store_events(project.id, [old])
    body = {"event_id": old.event_id, "name": "Jane", "email": "jane@example.com", "comments": "late"}
    path = "/api/0/projects/acme/web/user-feedback/"
    assert api.post(path, body, content_type="application/json").status_code == 409
    fresh = _now_event(project)
    response = api.post(path, {**body, "event_id": fresh.event_id}, content_type="application/json")
    assert response.status_code == 200
    assert set(response.json()) == FIELDS and response.json()["issue"]["userReportCount"] == 1
    UserReport.objects.update(date_added=timezone.now() - timedelta(minutes=6))
    again = api.post(path, {**body, "event_id": fresh.event_id}, content_type="application/json")
    assert again.status_code == 409


def test_feedback_is_escaped_on_the_issue_page_its_tab_and_the_project_page(jane):
    project, _, page, _ = jane
    issue = _issue_with_reports(project, 1, comments=HOSTILE)
    UserReport.objects.update(name=HOSTILE, email=HOSTILE)
    store_user_reports(project.id, [prepared_report(uuid.uuid4().hex, "about nothing")])
    for path in (
        f"/organizations/acme/projects/web/issues/{issue.pk}/",
        f"/organizations/acme/projects/web/issues/{issue.pk}/feedback/",
        "/organizations/acme/projects/web/feedback/",
    ):
        html = page.get(path).content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html, path
    project_page = page.get("/organizations/acme/projects/web/feedback/").content.decode()
    assert "about nothing" in project_page and "about no error" in project_page
    assert (
        'href="/organizations/acme/projects/web/feedback/"'
        in page.get("/organizations/acme/projects/web/").content.decode()
    )


def _queries(client: Client, path: str, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params or {})
    assert response.status_code == 200, response.content[:300]
    return len(captured.captured_queries)


def test_lists_take_the_same_queries_for_1_and_for_30_reports_and_issues(jane):
    project, _, page, api = jane
    first = _issue_with_reports(project, 1)
    store_user_reports(project.id, [prepared_report(uuid.uuid4().hex, "about nothing")])
    paths = [
        (api, "/api/0/projects/acme/web/user-feedback/"),
        (api, f"/api/0/issues/{first.pk}/user-reports/"),
        (api, "/api/0/projects/acme/web/issues/"),
        (api, f"/api/0/issues/{first.pk}/events/", {"full": "1"}),
        (page, "/organizations/acme/projects/web/feedback/"),
        (page, f"/organizations/acme/projects/web/issues/{first.pk}/feedback/"),
        (page, f"/organizations/acme/projects/web/issues/{first.pk}/"),
    ]
    few = [_queries(*p) for p in paths]
    for n in range(29):  # 29 more issues with a report each, and 29 more reports on the first
        _issue_with_reports(project, 1, f"{n + 1:032x}")
    _issue_with_reports(project, 29)
    assert UserReport.objects.filter(issue=first).count() == 30
    assert [_queries(*p) for p in paths] == few
