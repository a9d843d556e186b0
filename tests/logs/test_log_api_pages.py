"""The logs API and pages: shapes, cursors in the Link header, isolation, escaping, the issue page."""

import re
from datetime import timedelta

import pytest
from django.test import Client

from accounts.models import ApiToken
from issues.models import Issue
from issues.store import store_events
from tests.factories import prepared_event, user_with_membership

from .factories import NOW, log_record, store_logs

pytestmark = pytest.mark.django_db
TRACE = "7e8ccfe1ff7f4ca6857d5820b8fa5645"


@pytest.fixture
def setup(make_project):
    project, _ = make_project()
    user = user_with_membership(project)
    _, token = ApiToken.issue(user)
    return project, user, Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_project_logs_shape(setup):
    project, _, api = setup
    store_logs([log_record(project.id, "Order 123 placed", trace_id=TRACE, span_id="b0f5d4cab79def0c",
                           attributes={"sentry.message.template": "Order {id} placed", "n": 3, "f": 1.5, "ok": True})])  # fmt: skip
    response = api.get("/api/0/projects/acme/web/logs/?statsPeriod=1h")
    assert response.status_code == 200
    (record,) = response.json()
    assert record["project"] == "web" and record["projectId"] == str(project.id)
    assert (record["level"], record["severityNumber"], record["body"]) == ("info", 9, "Order 123 placed")
    assert record["template"] == "Order {id} placed" and record["traceId"] == TRACE
    assert record["spanId"] == "b0f5d4cab79def0c" and re.match(r"\d{4}-\d\d-\d\dT.*Z$", record["timestamp"])
    assert record["attributes"]["n"] == {"value": 3, "type": "integer"}
    assert record["attributes"]["f"] == {"value": 1.5, "type": "double"}
    assert record["attributes"]["ok"] == {"value": True, "type": "boolean"}


def test_link_cursors_walk_every_record_once(setup):
    project, _, api = setup
    store_logs([log_record(project.id, f"r{i}", seconds_ago=i // 2) for i in range(7)])
    url, seen = "/api/0/projects/acme/web/logs/?statsPeriod=1h&per_page=3&query=r", []
    while url:
        response = api.get(url)
        seen += [r["body"] for r in response.json()]
        next_link = [part for part in response["Link"].split(", ") if 'rel="next"' in part][0]
        url = next_link[1 : next_link.index(">")] if 'results="true"' in next_link else None
    assert sorted(seen) == [f"r{i}" for i in range(7)] and len(seen) == 7


@pytest.mark.parametrize(
    "params, reason",
    [
        ("query=level:loud", "unknown level"),
        ("statsPeriod=forever", "statsPeriod"),
        ("statsPeriod=365d", "at most 90 days"),
        ("start=2026-01-01T00:00:00Z", "start and end"),
        ("cursor=bogus", "cursor"),
    ],
)
def test_bad_requests_are_400_with_a_reason(setup, params, reason):
    response = setup[2].get(f"/api/0/projects/acme/web/logs/?{params}")
    assert response.status_code == 400 and reason in response.json()["detail"]


def test_start_and_end(setup):
    project, _, api = setup
    store_logs([log_record(project.id, "old", seconds_ago=3 * 86400), log_record(project.id, "new")])
    start = (NOW - timedelta(days=4)).isoformat()
    end = (NOW - timedelta(days=2)).isoformat()
    response = api.get("/api/0/projects/acme/web/logs/", {"start": start, "end": end})
    assert [r["body"] for r in response.json()] == ["old"]


def test_organization_logs_cover_its_projects_only(setup, make_project):
    project, user, api = setup
    second = make_project(org="acme", slug="api")[0]
    stranger = make_project(org="other", slug="secret")[0]
    store_logs(
        [
            log_record(project.id, "from web"),
            log_record(second.id, "from api"),
            log_record(stranger.id, "from the stranger"),
        ]
    )
    bodies = {
        (r["project"], r["body"]) for r in api.get("/api/0/organizations/acme/logs/?statsPeriod=1h").json()
    }
    assert bodies == {("web", "from web"), ("api", "from api")}
    only = api.get(f"/api/0/organizations/acme/logs/?statsPeriod=1h&project={second.id}").json()
    assert [r["body"] for r in only] == ["from api"]
    assert api.get("/api/0/organizations/other/logs/").status_code == 404
    assert api.get("/api/0/projects/other/secret/logs/").status_code == 404
    client = Client()
    client.force_login(user)
    assert client.get("/organizations/other/projects/secret/logs/").status_code == 404
    assert client.get("/organizations/other/logs/").status_code == 404
    page = client.get("/organizations/acme/logs/?statsPeriod=1h").content.decode()
    assert "from web" in page and "from api" in page and "from the stranger" not in page


def test_previous_link_is_the_first_page(setup):
    project, _, api = setup
    store_logs([log_record(project.id, f"r{i}") for i in range(3)])
    first = api.get("/api/0/projects/acme/web/logs/?statsPeriod=1h&per_page=2")
    next_url = first["Link"].split(", ")[1]
    second = api.get(next_url[next_url.index("<") + 1 : next_url.index(">")])
    previous = second["Link"].split(", ")[0]
    assert 'results="false"' in previous and "cursor=" not in previous[: previous.index(">")]
    assert [r["body"] for r in api.get(previous[1 : previous.index(">")]).json()] == ["r0", "r1"]


def test_logs_page_escapes_and_shows_facets(setup, client):
    project, user, _ = setup
    store_logs([
        log_record(project.id, "<script>alert(1)</script>", level="error", severity_number=17,
                   attributes={"<b>key</b>": "<img src=x onerror=alert(2)>"}),
        log_record(project.id, "fine"),
    ])  # fmt: skip
    client.force_login(user)
    page = client.get("/organizations/acme/projects/web/logs/?statsPeriod=1h").content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "&lt;b&gt;key&lt;/b&gt;" in page
    assert "error 1" in page and "info 1" in page and 'class="log-histogram"' in page
    bad = client.get("/organizations/acme/projects/web/logs/?query=trace:nope").content.decode()
    assert "32 hexadecimal" in bad


def _issue_with_event(project, trace_id: str, user: dict):
    event = prepared_event(hashes=["f" * 32])
    event.trace_id = trace_id
    event.timestamp = NOW
    from issues.payload import encode_event_data

    event.data = encode_event_data(
        {"event_id": event.event_id, "user": user, "contexts": {"trace": {"trace_id": trace_id}}}
    )
    store_events(project.id, [event])
    return Issue.objects.get(project=project)


def test_issue_page_shows_its_trace_and_not_another_request_of_the_same_user(setup, client):
    project, user, _ = setup
    issue = _issue_with_event(project, TRACE, {"id": "42"})
    store_logs([
        log_record(project.id, "step one of this request", trace_id=TRACE, attributes={"user.id": "42"}),
        log_record(project.id, "another request of the same user", trace_id="d" * 32, attributes={"user.id": "42"}),
    ])  # fmt: skip
    client.force_login(user)
    page = client.get(f"/organizations/acme/projects/web/issues/{issue.id}/").content.decode()
    assert "Logs around this error" in page and "step one of this request" in page
    assert "another request of the same user" not in page


def test_issue_page_falls_back_to_the_users_records_within_five_minutes(setup, client):
    project, user, _ = setup
    issue = _issue_with_event(project, TRACE, {"id": "42"})
    store_logs([
        log_record(project.id, "same user two minutes before", seconds_ago=120, attributes={"user.id": 42}),
        log_record(project.id, "same user an hour before", seconds_ago=3600, attributes={"user.id": "42"}),
        log_record(project.id, "someone else", seconds_ago=60, attributes={"user.id": "43"}),
    ])  # fmt: skip
    client.force_login(user)
    page = client.get(f"/organizations/acme/projects/web/issues/{issue.id}/").content.decode()
    assert "same user two minutes before" in page and "these are the same user's within 5 minutes" in page
    assert "an hour before" not in page and "someone else" not in page
