"""Sentry's triage API: issue PUT/DELETE, bulk changes, statusDetails, assignment, per-user flags,
comments, the organization endpoints, isolation and query counts."""

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ApiToken
from issues import lifecycle
from issues.models import Activity, Issue
from issues.store import store_events
from tests.factories import prepared_event, user_with_membership

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    _, token = ApiToken.issue(user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def api(make_project):
    project, _ = make_project()
    store_events(project.id, [prepared_event(hashes=[f"{i:032x}"], seconds=i) for i in range(3)])
    jane = user_with_membership(project, "jane")
    return project, _client(jane), jane, list(Issue.objects.order_by("pk"))


def put(client, url, body):
    return client.put(url, body, content_type="application/json")


def test_put_one_issue_resolves_ignores_and_answers_the_issue(api):
    _, client, jane, (issue, *_) = api
    response = put(client, f"/api/0/issues/{issue.pk}/", {"status": "resolved"})
    body = response.json()
    assert response.status_code == 200 and body["status"] == "resolved" and body["substatus"] is None
    assert body["activity"][0]["type"] == "set_resolved" and body["activity"][0]["user"]["username"] == "jane"
    body = put(
        client, f"/api/0/issues/{issue.pk}/", {"status": "ignored", "statusDetails": {"ignoreCount": 2}}
    ).json()
    assert (body["status"], body["substatus"]) == ("ignored", "archived_until_condition_met")
    assert body["statusDetails"]["ignoreCount"] == 2 and body["statusDetails"]["actor"]["username"] == "jane"
    store_events(issue.project_id, [prepared_event(hashes=[f"{0:032x}"])])
    assert client.get(f"/api/0/issues/{issue.pk}/").json()["statusDetails"]["ignoreCount"] == 1
    store_events(issue.project_id, [prepared_event(hashes=[f"{0:032x}"])])
    after = client.get(f"/api/0/issues/{issue.pk}/").json()
    assert (after["status"], after["substatus"], after["statusDetails"]) == ("unresolved", "escalating", {})


@pytest.mark.parametrize(
    "body",
    [
        {"status": "resolved", "statusDetails": {"inRelease": "9.9-unknown"}},
        {"status": "resolved", "statusDetails": {"inCommit": {"commit": "abc"}}},
        {"status": "unresolved", "statusDetails": {"inNextRelease": True}},
        {"status": "ignored", "statusDetails": {"ignoreWindow": 60}},
        {"status": "ignored", "statusDetails": {"ignoreUserCount": 5, "ignoreUserWindow": 100000}},
        {"status": "ignored", "substatus": "archived_until_escalating", "statusDetails": {"ignoreCount": 5}},
        {"status": "ignored", "substatus": "bogus"},
        {"status": "ignored", "statusDetails": {"ignoreDuration": -5}},
        {"status": "closed"},
        {"assignedTo": "nobody-here"},
        {"isBookmarked": "yes"},
        {"status": "resolved", "priority": "low"},  # the level decides the priority
        {"status": "resolved", "statusDetails": {"inUpcomingRelease": True}},  # Sentry's, behind a flag
        {"status": "ignored", "statusDetails": {"inUpcomingRelease": True}},
    ],
)
def test_what_cannot_be_honoured_is_a_400_and_changes_nothing(api, body):
    _, client, _, (issue, *_) = api
    response = put(client, f"/api/0/issues/{issue.pk}/", body)
    assert response.status_code == 400 and response.json()["detail"]
    issue.refresh_from_db()
    assert issue.status == "unresolved" and not Activity.objects.exists()


def test_issue_objects_carry_priority_is_unhandled_and_lifetime(api):
    project, client, _, (first, second, third) = api

    def store(hashes: str, level: str, handled: str, seconds: int) -> None:
        tags = [("level", level), ("handled", handled)]
        store_events(project.id, [prepared_event(hashes=[hashes], level=level, tags=tags, seconds=seconds)])

    store(f"{0:032x}", "error", "no", 100)
    store(f"{1:032x}", "warning", "no", 100)
    store(f"{1:032x}", "warning", "yes", 200)  # the newest event was handled
    store(f"{2:032x}", "info", "yes", 100)
    listed = {i["shortId"]: i for i in client.get("/api/0/projects/acme/web/issues/", {"query": ""}).json()}
    assert {k: (i["priority"], i["isUnhandled"]) for k, i in listed.items()} == {
        "WEB-1": ("high", True),
        "WEB-2": ("medium", False),
        "WEB-3": ("low", False),
    }
    assert listed["WEB-2"]["lifetime"] == {
        "count": "3",
        "userCount": 0,
        "firstSeen": listed["WEB-2"]["firstSeen"],
        "lastSeen": listed["WEB-2"]["lastSeen"],
        "stats": None,
    }
    assert listed["WEB-1"]["priorityLockedAt"] is None
    store(f"{1:032x}", "warning", "no", 300)
    detail = client.get(f"/api/0/issues/{second.pk}/").json()
    assert detail["isUnhandled"] is True and detail["lifetime"]["count"] == "4"
    Issue.objects.filter(pk=third.pk).update(substatus="escalating")
    assert client.get(f"/api/0/issues/{third.pk}/").json()["priority"] == "high"  # raised while escalating


def test_assigned_to_username_user_id_and_team(api):
    project, client, jane, (issue, *_) = api
    url = f"/api/0/issues/{issue.pk}/"
    assigned = put(client, url, {"assignedTo": "jane"}).json()["assignedTo"]
    assert assigned == {"type": "user", "id": str(jane.pk), "name": "jane", "username": "jane", "email": ""}
    assert put(client, url, {"assignedTo": f"user:{jane.pk}"}).json()["assignedTo"]["id"] == str(jane.pk)
    team = put(client, url, {"assignedTo": "team:web"}).json()["assignedTo"]
    assert team["type"] == "team" and team["name"] == "web"
    assert put(client, url, {"assignedTo": ""}).json()["assignedTo"] is None
    listed = client.get("/api/0/projects/acme/web/issues/").json()
    assert all(i["assignedTo"] is None for i in listed)
    types = [a["type"] for a in client.get(url).json()["activity"]]
    assert types == ["unassigned", "assigned", "assigned"]  # user:ID was no change


def test_per_user_flags_are_per_user(api):
    project, client, jane, (issue, *_) = api
    url = f"/api/0/issues/{issue.pk}/"
    body = put(client, url, {"isBookmarked": True, "hasSeen": True, "isSubscribed": True}).json()
    assert (body["isBookmarked"], body["hasSeen"], body["isSubscribed"]) == (True, True, True)
    assert [u["username"] for u in body["participants"]] == ["jane"]
    assert [u["username"] for u in body["seenBy"]] == ["jane"]
    other = _client(user_with_membership(project, "bob")).get(url).json()
    assert (other["isBookmarked"], other["hasSeen"], other["isSubscribed"]) == (False, False, False)
    body = put(client, url, {"isSubscribed": False, "hasSeen": False}).json()
    assert (body["isSubscribed"], body["hasSeen"], body["participants"]) == (False, False, [])


def test_bulk_without_ids_changes_every_issue_matching_status_or_query(api):
    project, client, _, issues = api
    base = "/api/0/projects/acme/web/issues/"
    response = put(client, base, {"status": "resolved"})  # default query: is:unresolved
    assert response.status_code == 200 and response.json()["status"] == "resolved"
    assert set(Issue.objects.values_list("status", flat=True)) == {"resolved"}
    assert put(client, base, {"status": "resolved"}).status_code == 204  # none left to match
    assert put(client, f"{base}?status=resolved", {"status": "muted"}).json()["status"] == "ignored"
    assert set(Issue.objects.values_list("status", flat=True)) == {"ignored"}
    assert put(client, f"{base}?status=muted", {"status": "unresolved"}).status_code == 200
    assert put(client, f"{base}?query=is:unresolved", {"isBookmarked": True}).status_code == 400  # needs id=
    assert put(client, f"{base}?id={issues[0].pk}", {"status": "resolved"}).status_code == 200
    response = client.delete(f"{base}?query=is:unresolved")
    assert response.status_code == 204
    assert list(Issue.objects.values_list("pk", flat=True)) == [issues[0].pk]


def test_organization_endpoints_take_ids_and_short_ids(api):
    project, client, _, (first, second, third) = api
    assert client.get("/api/0/organizations/acme/issues/WEB-2/").json()["id"] == str(second.pk)
    assert client.get(f"/api/0/organizations/acme/issues/{second.pk}/").json()["shortId"] == "WEB-2"
    assert client.get("/api/0/organizations/acme/issues/WEB-99/").status_code == 404
    assert client.get("/api/0/organizations/acme/issues/NOPE-1/").status_code == 404
    body = put(client, "/api/0/organizations/acme/issues/WEB-1/", {"status": "ignored"}).json()
    assert (body["id"], body["status"], body["substatus"]) == (str(first.pk), "ignored", "archived_forever")
    listed = client.get("/api/0/organizations/acme/issues/", {"project": project.pk, "query": ""}).json()
    assert len(listed) == 3
    merged = put(client, f"/api/0/organizations/acme/issues/?id={second.pk}&id={third.pk}", {"merge": 1})
    assert merged.status_code == 200 and merged.json()["merge"]["children"]
    assert client.delete("/api/0/organizations/acme/issues/WEB-1/").status_code == 202
    assert client.delete(f"/api/0/issues/{first.pk}/").status_code == 404
    assert Issue.objects.count() == 1


def test_comments_api(api):
    project, client, jane, (issue, *_) = api
    url = f"/api/0/issues/{issue.pk}/comments/"
    created = client.post(url, {"text": "Looking **into** it"}, content_type="application/json")
    assert created.status_code == 201
    note = created.json()
    assert note["type"] == "note" and note["data"] == {"text": "Looking **into** it"}
    assert client.post(url, {"text": "  "}, content_type="application/json").status_code == 400
    assert [n["id"] for n in client.get(url).json()] == [note["id"]]
    assert client.get(f"/api/0/issues/{issue.pk}/").json()["numComments"] == 1
    bob = _client(user_with_membership(project, "bob"))  # someone else's note is not found, as in Sentry
    assert put(bob, f"{url}{note['id']}/", {"text": "mine now"}).status_code == 404
    assert bob.delete(f"{url}{note['id']}/").status_code == 404
    assert put(client, f"{url}{note['id']}/", {"text": "done"}).json()["data"]["text"] == "done"
    detail = client.get(f"/api/0/issues/{issue.pk}/").json()
    assert [u["username"] for u in detail["participants"]] == ["jane"]  # commenters are subscribed
    assert client.delete(f"{url}{note['id']}/").status_code == 204
    assert client.get(url).json() == [] and client.delete(f"{url}{note['id']}/").status_code == 404


def test_comments_under_the_organization_by_short_id_and_sentrys_rules(api):
    project, client, jane, (issue, *_) = api
    url = "/api/0/organizations/acme/issues/WEB-1/comments/"
    created = client.post(url, {"text": "on it"}, content_type="application/json")
    assert created.status_code == 201
    again = client.post(url, {"text": "on it"}, content_type="application/json")
    assert again.status_code == 400 and again.json() == {"detail": "You have already posted that comment."}
    second = client.post(url, {"text": "found it"}, content_type="application/json").json()
    assert [n["data"]["text"] for n in client.get(f"/api/0/issues/{issue.pk}/notes/").json()] == [
        "found it",
        "on it",
    ]
    edited = put(
        client, f"/api/0/organizations/acme/issues/{issue.pk}/comments/{second['id']}/", {"text": "x"}
    )
    assert edited.status_code == 200 and edited.json()["data"]["text"] == "x"
    assert client.get("/api/0/organizations/other/issues/WEB-1/comments/").status_code == 404

    def subscribed() -> bool:
        return client.get(f"/api/0/issues/{issue.pk}/").json()["isSubscribed"]

    assert subscribed()
    assert client.delete(f"{url}{second['id']}/").status_code == 204
    assert subscribed()  # one comment left
    assert client.delete(f"{url}{created.json()['id']}/").status_code == 204
    assert not subscribed()  # the last one gone: the subscription commenting made goes too
    put(client, f"/api/0/issues/{issue.pk}/", {"isSubscribed": True})
    note = client.post(url, {"text": "again"}, content_type="application/json").json()
    client.delete(f"{url}{note['id']}/")
    assert subscribed()  # an explicit subscription stays


def test_another_organization_gets_404_on_every_triage_endpoint(api, make_project):
    _, _, _, (issue, *_) = api
    other, _ = make_project(org="other", slug="app")
    stranger = _client(user_with_membership(other, "mallory"))
    assert put(stranger, f"/api/0/issues/{issue.pk}/", {"status": "resolved"}).status_code == 404
    assert stranger.delete(f"/api/0/issues/{issue.pk}/").status_code == 404
    assert put(stranger, "/api/0/organizations/acme/issues/WEB-1/", {"status": "resolved"}).status_code == 404
    assert put(stranger, "/api/0/organizations/acme/issues/", {"status": "resolved"}).status_code == 404
    assert stranger.delete("/api/0/projects/acme/web/issues/").status_code == 404
    assert stranger.get(f"/api/0/issues/{issue.pk}/comments/").status_code == 404
    assert stranger.post(f"/api/0/issues/{issue.pk}/comments/", {"text": "x"}).status_code == 404
    assert stranger.get("/api/0/organizations/acme/issues/WEB-1/comments/").status_code == 404
    # Their own organization's bulk endpoint does not reach our issues either.
    assert (
        put(stranger, f"/api/0/organizations/other/issues/?id={issue.pk}", {"status": "resolved"}).status_code
        == 204
    )
    assert set(Issue.objects.values_list("status", flat=True)) == {"unresolved"}


def test_list_queries_do_not_grow_with_the_page(api):
    project, client, jane, issues = api
    for issue in issues:
        put(client, f"/api/0/issues/{issue.pk}/", {"assignedTo": "jane", "isBookmarked": True, "status": "ignored",
                                                   "statusDetails": {"ignoreCount": 5}})  # fmt: skip
        client.post(f"/api/0/issues/{issue.pk}/comments/", {"text": "x"}, content_type="application/json")
    for path in ("/api/0/projects/acme/web/issues/", "/api/0/organizations/acme/issues/"):
        with CaptureQueriesContext(connection) as one:
            assert len(client.get(path, {"query": "", "limit": 1}).json()) == 1
        with CaptureQueriesContext(connection) as three:
            page = client.get(path, {"query": "", "limit": 3}).json()
        # 10 (one of them the `handled` tag rows behind isUnhandled), plus 3 for the page's
        # firstRelease/lastRelease objects (releases, projects, deploys), plus 2 for the counts in
        # the range (events, users), 1 for the organization's project ids, 1 for its userReportCount
        assert len(page) == 3 and len(one) == len(three) <= 17, [q["sql"] for q in three]
        assert all(i["assignedTo"]["username"] == "jane" and i["isBookmarked"] for i in page)
        assert all(i["statusDetails"]["ignoreCount"] == 5 and i["numComments"] == 1 for i in page)


def test_triage_search_terms(api):
    project, client, jane, (first, second, third) = api
    put(client, f"/api/0/issues/{first.pk}/", {"assignedTo": "jane", "isBookmarked": True})
    put(client, f"/api/0/issues/{second.pk}/", {"assignedTo": "team:web"})
    put(client, f"/api/0/issues/{third.pk}/", {"status": "ignored", "statusDetails": {"ignoreCount": 1}})
    store_events(project.id, [prepared_event(hashes=[f"{2:032x}"])])

    def found(query: str) -> list[str]:
        return sorted(
            i["shortId"] for i in client.get("/api/0/projects/acme/web/issues/", {"query": query}).json()
        )

    assert found("assigned:me") == found("assigned:jane") == ["WEB-1"]
    assert found("assigned:#web") == ["WEB-2"]
    assert found("is:assigned") == ["WEB-1", "WEB-2"] and found("is:unassigned") == ["WEB-3"]
    assert found("bookmarks:me") == found("is:bookmarked") == ["WEB-1"]
    assert found("is:escalating") == ["WEB-3"]
    bob = _client(user_with_membership(project, "bob"))
    assert bob.get("/api/0/projects/acme/web/issues/", {"query": "bookmarks:me"}).json() == []


def test_hostile_ids_are_400_or_404_never_500(api):
    _, client, _, (issue, *_) = api
    huge = "9" * 30
    for value in (f"team:{huge}", f"user:{huge}", "user:²", "team:²"):
        assert put(client, f"/api/0/issues/{issue.pk}/", {"assignedTo": value}).status_code == 400, value
    for path in (
        f"/api/0/issues/{huge}/",
        "/api/0/issues/²/",
        f"/api/0/organizations/acme/issues/WEB-{huge}/",
    ):
        assert client.get(path).status_code == 404, path
    assert (
        put(client, f"/api/0/projects/acme/web/issues/?id={huge}", {"status": "resolved"}).status_code == 400
    )
    assert put(client, "/api/0/projects/acme/web/issues/?id=²", {"status": "resolved"}).status_code == 400
    many = "&".join(f"id={n}" for n in range(1, 1002))
    assert put(client, f"/api/0/projects/acme/web/issues/?{many}", {"status": "resolved"}).status_code == 400
    assert client.get("/api/0/organizations/acme/issues/", {"project": huge}).status_code == 400
    big_count = {"status": "ignored", "statusDetails": {"ignoreCount": huge}}
    assert put(client, f"/api/0/issues/{issue.pk}/", big_count).status_code == 400
    assert put(client, f"/api/0/issues/{issue.pk}/comments/{huge}/", {"text": "x"}).status_code == 404
    assert set(Issue.objects.values_list("status", flat=True)) == {"unresolved"}


def test_resolve_in_the_next_release_and_in_a_release_with_sentry_names(api):
    project, client, jane, (first, second, third) = api
    body = put(client, f"/api/0/issues/{first.pk}/", {"status": "resolvedInNextRelease"}).json()
    assert (body["status"], body["substatus"]) == ("resolved", None)
    assert body["statusDetails"] == {"inNextRelease": True, "actor": body["statusDetails"]["actor"]}
    assert body["statusDetails"]["actor"]["username"] == "jane"
    assert body["activity"][0]["type"] == "set_resolved_in_release"
    details = {"status": "resolved", "statusDetails": {"inRelease": "1.0"}}
    response = put(client, f"/api/0/projects/acme/web/issues/?id={second.pk}&id={third.pk}", details)
    assert response.status_code == 200 and response.json()["statusDetails"] == {"inRelease": "1.0"}
    shown = client.get(f"/api/0/issues/{second.pk}/").json()
    assert shown["status"] == "resolved" and shown["statusDetails"]["inRelease"] == "1.0"
    listed = client.get("/api/0/projects/acme/web/issues/?query=is:resolved").json()
    assert {i["id"]: i["statusDetails"].get("inRelease") for i in listed} == {
        str(first.pk): None, str(second.pk): "1.0", str(third.pk): "1.0",
    }  # fmt: skip
    # An event of the same release leaves them resolved; one of a newer release regresses them.
    store_events(project.id, [prepared_event(hashes=[f"{i:032x}"], release="1.0") for i in range(3)])
    assert set(Issue.objects.values_list("status", flat=True)) == {"resolved"}
    store_events(project.id, [prepared_event(hashes=[f"{1:032x}"], release="2.0")])
    after = client.get(f"/api/0/issues/{second.pk}/").json()
    assert (after["status"], after["substatus"], after["statusDetails"]) == ("unresolved", "regressed", {})


def test_archive_until_escalating_and_ignore_windows_with_sentry_names(api):
    _, client, _, (first, second, _) = api
    body = {"status": "ignored", "substatus": "archived_until_escalating", "statusDetails": {}}
    response = put(client, f"/api/0/issues/{first.pk}/", body)
    assert response.status_code == 200
    shown = client.get(f"/api/0/issues/{first.pk}/").json()
    assert (shown["status"], shown["substatus"], shown["statusDetails"]) == (
        "ignored", "archived_until_escalating", {},
    )  # fmt: skip
    window = {"ignoreCount": 10, "ignoreWindow": 60, "ignoreUserCount": 3, "ignoreUserWindow": 1440}
    response = put(client, f"/api/0/issues/{second.pk}/", {"status": "ignored", "statusDetails": window})
    assert response.status_code == 200
    details = client.get(f"/api/0/issues/{second.pk}/").json()["statusDetails"]
    assert {k: details[k] for k in window} == window and details["actor"]["username"] == "jane"


def test_ignore_for_a_duration_through_the_api_ends_when_the_time_is_up(api):
    _, client, _, (issue, *_) = api
    before = timezone.now()
    body = {"status": "muted", "statusDetails": {"ignoreDuration": 30}}
    answer = put(client, f"/api/0/issues/{issue.pk}/", body).json()
    assert (answer["status"], answer["substatus"]) == ("ignored", "archived_until_condition_met")
    until = datetime.fromisoformat(answer["statusDetails"]["ignoreUntil"])
    assert timedelta(minutes=29) < until - before < timedelta(minutes=31)
    assert lifecycle.end_expired_ignores(now=until - timedelta(seconds=1)) == []
    assert lifecycle.end_expired_ignores(now=until + timedelta(seconds=1)) == [issue.pk]
    shown = client.get(f"/api/0/issues/{issue.pk}/").json()
    assert (shown["status"], shown["substatus"], shown["statusDetails"]) == ("unresolved", "ongoing", {})
    assert shown["activity"][0]["type"] == "set_unresolved" and shown["activity"][0]["user"] is None


def test_token_scopes_gate_the_issue_endpoints_as_sentrys(api):
    """event:read reads, event:write changes, event:admin deletes; a CI token (project:releases)
    touches no issue, whatever its user may do."""
    _, _, jane, (first, second, _) = api

    def client(*scopes: str) -> Client:
        _, token = ApiToken.issue(jane, scopes=list(scopes))
        return Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    ci, reader, writer, admin = (
        client("project:releases"),
        client("event:read"),
        client("event:write"),
        client("event:admin"),
    )
    issue, comments = f"/api/0/issues/{first.pk}/", f"/api/0/issues/{first.pk}/comments/"
    reads = ["/api/0/projects/acme/web/issues/", "/api/0/organizations/acme/issues/", issue, comments,
             f"{issue}events/", f"{issue}events/latest/", f"{issue}hashes/", "/api/0/organizations/acme/issues/WEB-1/"]  # fmt: skip
    for path in reads:
        assert ci.get(path).status_code == 403, path
        assert reader.get(path).status_code == 200, path
    resolve = {"status": "resolved"}
    assert put(ci, issue, resolve).status_code == 403 and put(reader, issue, resolve).status_code == 403
    assert put(reader, f"/api/0/projects/acme/web/issues/?id={first.pk}", resolve).status_code == 403
    assert reader.post(comments, {"text": "x"}, content_type="application/json").status_code == 403
    assert Issue.objects.get(pk=first.pk).status == "unresolved" and not Activity.objects.exists()
    assert put(writer, issue, resolve).status_code == 200
    assert writer.post(comments, {"text": "x"}, content_type="application/json").status_code == 201
    assert (
        writer.delete(issue).status_code == 403
        and ci.delete(f"/api/0/issues/{second.pk}/").status_code == 403
    )
    assert admin.delete(f"/api/0/issues/{second.pk}/").status_code == 202
