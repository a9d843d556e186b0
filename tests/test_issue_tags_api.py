"""Sentry's issue tag endpoints and the issue page's API fields: shapes and types as in Sentry's
documented examples, top values by count (not the first rows), Link cursors, the organization-scoped
paths, 404 across organizations, and query counts that do not grow with the page."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import ApiToken
from issues.models import Issue
from issues.store import store_events
from tests.factories import organization_with_roles, prepared_event

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    _, token = ApiToken.issue(user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def _events(counts: dict[str, int]) -> list:
    """Events of one issue whose `browser` tag has the given counts; `aaa` comes first by name
    but is the rarest, so "top values" must sort by count."""
    events, second = [], 0
    for browser, n in counts.items():
        for _ in range(n):
            second += 1
            tags = [("browser", browser), ("environment", "production"), ("user", f"id:{second % 3}")]
            events.append(prepared_event(seconds=second, tags=tags, release="2.0"))
    return events


@pytest.fixture
def api(make_project):
    project, _, users = organization_with_roles(make_project)
    store_events(project.id, _events({"aaa": 1, "Chrome": 5, "Firefox": 3, "Safari": 2}))
    return project, _client(users["mia"]), Issue.objects.get(), users


def test_tags_list_has_keys_with_totals_and_top_values_by_count(api):
    _, client, issue, _ = api
    response = client.get(f"/api/0/issues/{issue.pk}/tags/")
    assert response.status_code == 200
    by_key = {t["key"]: t for t in response.json()}
    assert set(by_key) == {"browser", "environment", "user"}
    browser = by_key["browser"]
    assert (browser["name"], browser["totalValues"], browser["uniqueValues"]) == ("Browser", 11, 4)
    assert [v["value"] for v in browser["topValues"]] == ["Chrome", "Firefox", "Safari", "aaa"]
    top = browser["topValues"][0]
    assert top == {
        "key": "Chrome",
        "name": "Chrome",
        "value": "Chrome",
        "count": 5,
        "lastSeen": top["lastSeen"],
        "firstSeen": top["firstSeen"],
    }
    assert top["lastSeen"].endswith("Z") and top["firstSeen"] < top["lastSeen"]
    only = client.get(f"/api/0/issues/{issue.pk}/tags/", {"key": "user"}).json()
    assert [t["key"] for t in only] == ["user"] and only[0]["uniqueValues"] == 3


def test_one_key_and_its_values_page_by_page_with_link_cursors(api):
    _, client, issue, _ = api
    key = client.get(f"/api/0/issues/{issue.pk}/tags/browser/").json()
    assert key["key"] == "browser" and key["totalValues"] == 11 and len(key["topValues"]) == 4
    assert client.get(f"/api/0/issues/{issue.pk}/tags/nope/").status_code == 404
    assert client.get(f"/api/0/issues/{issue.pk}/tags/nope/values/").status_code == 404
    url = f"/api/0/issues/{issue.pk}/tags/browser/values/"
    first = client.get(url, {"sort": "-count", "limit": 2})
    assert [v["value"] for v in first.json()] == ["Chrome", "Firefox"]
    assert 'rel="next"; results="true"' in first["Link"]
    cursor = first["Link"].split('rel="next"; results="true"; cursor="')[1].split('"')[0]
    second = client.get(url, {"sort": "-count", "limit": 2, "cursor": cursor})
    assert [v["value"] for v in second.json()] == ["Safari", "aaa"]
    assert 'rel="next"; results="false"' in second["Link"]
    assert [v["value"] for v in client.get(url, {"sort": "count"}).json()][0] == "aaa"
    assert [v["value"] for v in client.get(url, {"query": "fire"}).json()] == ["Firefox"]
    assert client.get(url, {"query": "zzz"}).json() == []


def test_organization_paths_short_ids_and_other_organizations(api):
    _, client, issue, users = api
    org = "/api/0/organizations/acme/issues"
    for ident in (issue.pk, "WEB-1"):
        assert client.get(f"{org}/{ident}/tags/").status_code == 200
        assert client.get(f"{org}/{ident}/tags/browser/values/").json()[0]["count"] >= 1
        assert client.get(f"{org}/{ident}/events/").status_code == 200
        for which in ("latest", "oldest", "recommended"):
            assert client.get(f"{org}/{ident}/events/{which}/").json()["groupID"] == str(issue.pk)
    latest = client.get(f"{org}/{issue.pk}/events/latest/").json()
    oldest = client.get(f"{org}/{issue.pk}/events/oldest/").json()
    assert latest["nextEventID"] is None and oldest["previousEventID"] is None
    assert latest["dateCreated"] > oldest["dateCreated"]
    outsider = _client(users["otto"])
    for path in (
        f"/api/0/issues/{issue.pk}/tags/",
        f"/api/0/issues/{issue.pk}/tags/browser/",
        f"/api/0/issues/{issue.pk}/tags/browser/values/",
        f"{org}/{issue.pk}/tags/",
        f"{org}/{issue.pk}/events/latest/",
        f"/api/0/organizations/theirs/issues/{issue.pk}/tags/",
    ):
        assert outsider.get(path).status_code == 404, path


def test_issue_detail_has_tags_lifetime_and_release_objects(api):
    _, client, issue, _ = api
    body = client.get(f"/api/0/issues/{issue.pk}/").json()
    assert {"key": "browser", "name": "Browser", "totalValues": 11} in body["tags"]
    assert body["lifetime"] == {
        "count": "11",
        "userCount": 0,
        "firstSeen": body["firstSeen"],
        "lastSeen": body["lastSeen"],
        "stats": None,
    }
    assert body["firstRelease"]["version"] == "2.0" and isinstance(body["firstRelease"]["projects"], list)
    assert body["lastRelease"]["shortVersion"] == "2.0" and isinstance(body["lastRelease"]["newGroups"], int)
    assert [len(body["stats"]["24h"]), len(body["stats"]["30d"])] == [24, 30]
    assert all(isinstance(ts, int) and isinstance(n, int) for ts, n in body["stats"]["30d"])
    assert isinstance(body["activity"], list) and isinstance(body["seenBy"], list)
    assert isinstance(body["participants"], list) and body["userReportCount"] == 0
    listed = client.get("/api/0/projects/acme/web/issues/").json()[0]
    assert listed["firstRelease"]["version"] == "2.0"


def test_no_release_is_null(make_project):
    project, _, users = organization_with_roles(make_project)
    store_events(project.id, [prepared_event(release="")])
    body = _client(users["mia"]).get(f"/api/0/issues/{Issue.objects.get().pk}/").json()
    assert body["firstRelease"] is None and body["lastRelease"] is None


def test_tag_queries_do_not_grow_with_keys_values_or_page_size(api):
    project, client, issue, _ = api
    url = f"/api/0/issues/{issue.pk}/tags/"
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    many = [
        prepared_event(seconds=100 + n, tags=[(f"k{n % 7}", f"v{n}"), ("browser", f"b{n}")])
        for n in range(40)
    ]
    store_events(project.id, many)
    with CaptureQueriesContext(connection) as more:
        assert len(client.get(url).json()) == 10
    assert len(few) == len(more) <= 5
    values = f"/api/0/issues/{issue.pk}/tags/browser/values/"
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(values, {"limit": 1}).json()) == 1
    with CaptureQueriesContext(connection) as forty:
        assert len(client.get(values, {"limit": 40}).json()) == 40
    assert len(one) == len(forty) <= 4
    events = f"/api/0/issues/{issue.pk}/events/"
    with CaptureQueriesContext(connection) as one:
        client.get(events, {"limit": 1})
    with CaptureQueriesContext(connection) as forty:
        assert len(client.get(events, {"limit": 40}).json()) == 40
    assert len(one) == len(forty)


def test_navigation_walks_events_with_the_same_timestamp_by_id(make_project):
    project, _, users = organization_with_roles(make_project)
    same = prepared_event(seconds=5)
    events = [same, *[prepared_event(seconds=5) for _ in range(2)], prepared_event(seconds=1)]
    store_events(project.id, events)
    client = _client(users["mia"])
    issue = Issue.objects.get()
    walked, current = [], client.get(f"/api/0/issues/{issue.pk}/events/latest/").json()
    while current:
        walked.append(current["eventID"])
        older = current["previousEventID"]
        current = client.get(f"/api/0/issues/{issue.pk}/events/{older}/").json() if older else None
    listed = [e["eventID"] for e in client.get(f"/api/0/issues/{issue.pk}/events/").json()]
    assert walked == listed and len(walked) == 4 and walked[-1] == events[-1].event_id
    back = client.get(f"/api/0/issues/{issue.pk}/events/{walked[2]}/").json()
    assert back["nextEventID"] == walked[1] and back["previousEventID"] == walked[3]


def test_user_values_carry_the_users_identifiers_and_are_found_by_any(make_project):
    project, _, users = organization_with_roles(make_project)
    people = [{"id": "7", "email": "zed@example.com", "ip_address": "10.1.2.3"}, {"username": 'say "hi"'}]
    store_events(project.id, [prepared_event(sdk_user=p) for p in people])
    store_events(project.id, [prepared_event(tags=[("user", "bob")])])  # an SDK's own `user` tag
    client, issue = _client(users["mia"]), Issue.objects.get()
    url = f"/api/0/issues/{issue.pk}/tags/user/values/"
    by_value = {v["value"]: v for v in client.get(url).json()}
    assert by_value["id:7"] | {"lastSeen": None, "firstSeen": None} == {
        "key": "id:7",
        "name": "id:7",
        "value": "id:7",
        "count": 1,
        "lastSeen": None,
        "firstSeen": None,
        "identifier": "7",
        "email": "zed@example.com",
        "username": None,
        "ipAddress": "10.1.2.3",
        "query": 'user.id:"7"',
    }
    assert by_value['username:say "hi"']["query"] == 'user.username:"say \\"hi\\""'
    assert by_value["bob"]["identifier"] is None and by_value["bob"]["query"] is None
    assert [v["value"] for v in client.get(url, {"query": "zed@"}).json()] == ["id:7"]
    with CaptureQueriesContext(connection) as three:
        client.get(url)
    store_events(project.id, [prepared_event(sdk_user={"id": f"u{n}"}) for n in range(30)])
    with CaptureQueriesContext(connection) as thirty_three:
        assert len(client.get(url).json()) == 33
    assert len(three) == len(thirty_three)
