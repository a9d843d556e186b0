"""The Sentry-compatible API: token auth, shapes, pagination, search, isolation."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import ApiToken
from issues import lifecycle
from issues.models import Issue
from issues.store import store_events
from tests.factories import BASE_TIME, prepared_event, rich_prepared_event, user_with_membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(make_project, client):
    project, _ = make_project()
    user = user_with_membership(project)
    _, token = ApiToken.issue(user)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return project, client


def test_token_is_required(client, make_project):
    make_project()
    assert client.get("/api/0/projects/acme/web/issues/").status_code == 401
    bad = client.get("/api/0/projects/acme/web/issues/", HTTP_AUTHORIZATION="Bearer nope")
    assert bad.status_code == 401


def test_issue_list_shape(setup):
    project, client = setup
    store_events(project.id, [rich_prepared_event(user="u1") for _ in range(3)])
    response = client.get("/api/0/projects/acme/web/issues/")
    assert response.status_code == 200
    (issue,) = response.json()
    # Sentry's list: `count`/`userCount` within the range (24 h by default; the events are older),
    # the totals in `lifetime`.
    assert issue["count"] == "0" and issue["userCount"] == 0
    assert issue["lifetime"]["count"] == "3" and issue["lifetime"]["userCount"] == 1
    around = {
        "start": (BASE_TIME - timedelta(days=1)).isoformat()[:19],
        "end": (BASE_TIME + timedelta(days=1)).isoformat()[:19],
    }
    (in_range,) = client.get("/api/0/projects/acme/web/issues/", around).json()
    assert in_range["count"] == "3" and in_range["userCount"] == 1
    assert issue["shortId"] == "WEB-1" and issue["status"] == "unresolved"
    assert issue["project"]["slug"] == "web" and issue["level"] == "error"
    assert issue["permalink"].startswith("http://") and f"/issues/{issue['id']}/" in issue["permalink"]
    for field in ("id", "title", "culprit", "firstSeen", "lastSeen", "metadata"):
        assert field in issue


def test_default_query_is_unresolved_and_query_filters(setup):
    project, client = setup
    store_events(project.id, [prepared_event(hashes=["a" * 32], title="KeyError: 'sku'")])
    store_events(project.id, [prepared_event(hashes=["b" * 32], title="TimeoutError: upstream")])
    lifecycle.set_status([Issue.objects.get(title__startswith="Key").pk], None, Issue.Status.RESOLVED)
    titles = lambda r: [i["title"] for i in r.json()]  # noqa: E731
    assert titles(client.get("/api/0/projects/acme/web/issues/")) == ["TimeoutError: upstream"]
    assert titles(client.get("/api/0/projects/acme/web/issues/?query=is:resolved")) == ["KeyError: 'sku'"]
    assert len(client.get("/api/0/projects/acme/web/issues/?query=").json()) == 2
    assert titles(client.get("/api/0/projects/acme/web/issues/?query=upstream")) == ["TimeoutError: upstream"]


def test_cursor_pagination_walks_every_issue_once(setup):
    project, client = setup
    store_events(project.id, [prepared_event(hashes=[f"{i:032d}"]) for i in range(7)])
    seen, url = [], "/api/0/projects/acme/web/issues/?limit=3"
    while url:
        response = client.get(url)
        seen += [i["id"] for i in response.json()]
        links = {part.split('rel="')[1].split('"')[0]: part for part in response["Link"].split(", <")}
        nxt = links["next"]
        url = (
            nxt.split(">")[0].lstrip("<").replace("http://testserver", "")
            if 'results="true"' in nxt
            else None
        )
    assert len(seen) == 7 and len(set(seen)) == 7


@pytest.mark.parametrize("cursor", ["0:9223372036854775808:0", "0:100001:0", "0:" + "9" * 5000 + ":0"])
def test_out_of_range_cursors_are_a_400_not_a_500(setup, cursor):
    project, client = setup
    store_events(project.id, [prepared_event()])
    issue_id = Issue.objects.get().id
    for path in ("/api/0/projects/acme/web/issues/", f"/api/0/issues/{issue_id}/events/"):
        response = client.get(path, {"cursor": cursor})
        assert response.status_code in (200, 400), (path, response.status_code)
        if response.status_code == 400:
            assert "cursor" in response.json()["detail"]
    assert (
        client.get("/api/0/projects/acme/web/issues/", {"cursor": "0:9223372036854775808:0"}).status_code
        == 400
    )


def test_issue_events_and_latest(setup):
    project, client = setup
    store_events(project.id, [rich_prepared_event(seconds=1), rich_prepared_event(seconds=2)])
    issue_id = Issue.objects.get().id
    assert client.get(f"/api/0/issues/{issue_id}/").json()["count"] == "2"
    events = client.get(f"/api/0/issues/{issue_id}/events/").json()
    assert len(events) == 2 and events[0]["dateCreated"] > events[1]["dateCreated"]
    latest = client.get(f"/api/0/issues/{issue_id}/events/latest/").json()
    assert latest["eventID"] == events[0]["eventID"] and latest["nextEventID"] is None
    assert latest["previousEventID"] == events[1]["eventID"]
    (exception,) = [e for e in latest["entries"] if e["type"] == "exception"]
    frame = exception["data"]["values"][0]["stacktrace"]["frames"][-1]
    assert (frame["function"], frame["inApp"], frame["lineNo"]) == ("total", True, 42)
    assert [42, "    return sum(items) / len(items)"] in frame["context"]


def test_non_members_get_404(setup, make_project):
    project, client = setup
    other, _ = make_project(org="other-org", slug="secret")
    store_events(other.id, [prepared_event()])
    issue_id = Issue.objects.get(project=other).id
    assert client.get("/api/0/projects/other-org/secret/issues/").status_code == 404
    assert client.get(f"/api/0/issues/{issue_id}/").status_code == 404
    assert client.get(f"/api/0/issues/{issue_id}/events/").status_code == 404
    assert client.get(f"/api/0/issues/{issue_id}/events/latest/").status_code == 404


def test_issue_list_query_count_does_not_grow_with_issues(setup, django_assert_max_num_queries):
    """Token, project, page, the total (X-Hits), and per-user flags (bookmarks, seen,
    subscriptions) and comment counts for the whole page at once: the same queries for 1 issue as
    for 20."""
    project, client = setup
    store_events(project.id, [prepared_event(hashes=[f"{i:032d}"]) for i in range(20)])
    # 10 (one of them the `handled` tag rows behind isUnhandled), plus 3 for the firstRelease /
    # lastRelease objects: releases, their projects, their deploys, plus 1 for the page's
    # userReportCount, 2 for the counts in the range (events, users)
    with django_assert_max_num_queries(16):
        assert len(client.get("/api/0/projects/acme/web/issues/?limit=20").json()) == 20
    with CaptureQueriesContext(connection) as one:
        client.get("/api/0/projects/acme/web/issues/?limit=1")
    with CaptureQueriesContext(connection) as twenty:
        client.get("/api/0/projects/acme/web/issues/?limit=20")
    assert len(one) == len(twenty)


def test_a_flood_of_search_terms_is_a_400_with_the_limit(setup):
    project, client = setup
    store_events(project.id, [prepared_event()])
    flood = client.get("/api/0/projects/acme/web/issues/", {"query": " ".join(["level:error"] * 200)})
    assert flood.status_code == 400 and "at most 20 terms" in flood.json()["detail"]
    many_tags = " ".join(f"tag{n}:v" for n in range(19)) + " level:error"
    assert client.get("/api/0/projects/acme/web/issues/", {"query": many_tags}).status_code == 200
