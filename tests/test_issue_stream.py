"""The issue stream pages (project and organization), their bulk actions and saved searches, and
the list API's search, sort, scope and bulk changes of every matching issue."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import ApiToken
from issues.models import Activity, Issue, IssueBookmark, IssueSeen, SavedSearch
from issues.store import store_events
from tests.factories import prepared_event, user_with_membership

pytestmark = pytest.mark.django_db
LIST = "/organizations/acme/projects/web/"
BULK = "/organizations/acme/projects/web/bulk/"


def _event(n: int, **kwargs):
    return prepared_event(hashes=[f"{n:032x}"], **kwargs)


@pytest.fixture
def stream(make_project, client):
    """acme/web with 4 issues (two tagged customer_tier:gold) and jane logged in."""
    project, _ = make_project()
    events = [
        _event(n, tags=[("customer_tier", "gold" if n < 2 else "silver")], title=f"Error{n}: x")
        for n in range(4)
    ]
    store_events(project.id, events)
    jane = user_with_membership(project, "jane")
    client.force_login(jane)
    return project, client, jane


def _page(client, **params) -> str:
    response = client.get(LIST, params)
    assert response.status_code == 200
    return response.content.decode()


def test_a_bad_search_shows_its_error_under_the_bar_not_an_empty_list(stream):
    _, client, _ = stream
    html = _page(client, query="is:bogus")
    assert 'class="search-error" role="alert"' in html and "is:bogus is not a status" in html
    assert "The search could not run" in html and "No issues match" not in html
    html = _page(client, query="timesSeen:lots")
    assert "not a number" in html
    assert "sort must be one of" in _page(client, sort="random")


def test_search_sort_total_sparkline_and_escaping(stream):
    project, client, _ = stream
    store_events(project.id, [_event(9, title="<script>alert(1)</script>", tags=[("customer_tier", "gold")])])
    html = _page(client, query="customer_tier:gold", sort="new")
    assert "3 issues match" in html and "Error0" in html and "Error2" not in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<option value="new" selected>' in html and '<svg class="spark"' in html
    assert html.index("&lt;script&gt;") < html.index("Error1")  # newest first seen first
    html = _page(client, query="", sort="freq", statsPeriod="24h")
    assert "0 issues match" in html  # the factory's events are from 2026-11-24
    assert 'src="/static/lighttrace/issue-list.js"' in html and "<script>" not in html.split("</h1>")[1]


def test_page_query_count_does_not_grow_with_the_page(stream, django_assert_max_num_queries):
    project, client, _ = stream
    with CaptureQueriesContext(connection) as few:
        _page(client, query="")
    store_events(project.id, [_event(n) for n in range(10, 30)])
    with CaptureQueriesContext(connection) as many:
        html = _page(client, query="")
    assert "24 issues match" in html
    assert len(few) == len(many), [q["sql"] for q in many]
    with django_assert_max_num_queries(len(many)):
        _page(client, query="is:unresolved customer_tier:gold", sort="trends", statsPeriod="7d")


def _refused(client, data: dict) -> str:
    """Posts a bulk action that must be refused: back to the list, the reason shown there, as an error."""
    response = client.post(BULK, data, follow=True)
    assert response.status_code == 200 and response.redirect_chain[0][1] == 302
    page = response.content.decode()
    found = re.search(r'<p class="message error" role="alert">([^<]+)</p>', page)
    assert found, page[-2000:]
    return found.group(1)


def test_bulk_resolve_all_matching_a_search(stream):
    project, client, _ = stream
    response = client.post(BULK, {"all": "1", "query": "customer_tier:gold", "action": "resolved"})
    assert response.status_code == 302 and "query=customer_tier%3Agold" in response["Location"]
    resolved = set(Issue.objects.filter(status="resolved").values_list("title", flat=True))
    assert resolved == {"Error0: x", "Error1: x"}
    assert Activity.objects.filter(type="set_resolved").count() == 2
    # A bad search acts on nothing.
    assert _refused(client, {"all": "1", "query": "is:nope", "action": "resolved"})
    assert Issue.objects.filter(status="resolved").count() == 2


def test_bulk_actions_on_selected_issues(stream):
    project, client, jane = stream
    a, b, c, d = Issue.objects.order_by("pk")
    both = {"issue": [a.pk, b.pk], "query": "is:unresolved"}
    assert client.post(BULK, {**both, "action": "ignored", "ignore_count": "5"}).status_code == 302
    assert {i.substatus for i in Issue.objects.filter(pk__in=[a.pk, b.pk])} == {
        "archived_until_condition_met"
    }
    assert _refused(client, {**both, "action": "ignored", "ignore_count": "x"})
    assert client.post(BULK, {**both, "action": "assign", "assignee": f"user:{jane.pk}"}).status_code == 302
    assert set(Issue.objects.filter(assignee_user=jane).values_list("pk", flat=True)) == {a.pk, b.pk}
    client.post(BULK, {**both, "action": "bookmark"})
    client.post(BULK, {**both, "action": "seen"})
    assert IssueBookmark.objects.filter(user=jane).count() == 2 and IssueSeen.objects.count() == 2
    client.post(BULK, {**both, "action": "unbookmark"})
    assert not IssueBookmark.objects.exists()
    assert client.post(BULK, {"issue": [c.pk, d.pk], "action": "merge"}).status_code == 302
    assert Issue.objects.count() == 3
    assert _refused(client, {"issue": [a.pk], "action": "delete"})  # unconfirmed
    assert client.post(BULK, {"issue": [a.pk], "action": "delete", "confirm": "yes"}).status_code == 302
    assert _refused(client, {"issue": [b.pk], "action": "explode"})
    assert _refused(client, {"action": "resolved"})  # nothing selected
    assert Issue.objects.count() == 2


def test_bulk_keeps_to_the_project_and_the_organization(stream, make_project):
    project, client, _ = stream
    other, _ = make_project(org="other", slug="app")
    store_events(other.id, [_event(50)])
    theirs = Issue.objects.get(project=other)
    assert _refused(client, {"issue": [theirs.pk], "action": "resolved"})
    assert client.post("/organizations/other/projects/app/bulk/", {"all": "1"}).status_code == 404
    assert client.get("/organizations/other/issues/").status_code == 404
    assert Issue.objects.get(pk=theirs.pk).status == "unresolved"


def test_organization_wide_list_and_project_filter(stream, make_project):
    project, client, _ = stream
    second, _ = make_project(org="acme", slug="api")
    store_events(second.id, [_event(60, title="ApiError: down")])
    html = client.get("/organizations/acme/issues/").content.decode()
    assert "5 issues match" in html and "ApiError" in html and "Error0" in html
    html = client.get("/organizations/acme/issues/", {"project": second.pk}).content.decode()
    assert "1 issue matches" in html and "Error0" not in html
    response = client.post(
        "/organizations/acme/issues/bulk/", {"all": "1", "query": "ApiError", "action": "resolved"}
    )
    assert response.status_code == 302
    assert list(Issue.objects.filter(status="resolved").values_list("title", flat=True)) == ["ApiError: down"]


def test_saved_searches(stream):
    project, client, jane = stream
    html = _page(client)
    for builtin in ("Unresolved", "Assigned to me", "For review"):
        assert builtin in html
    url = "/organizations/acme/searches/"
    back = LIST + "?query=customer_tier%3Agold"
    response = client.post(
        url, {"name": "Gold <b>", "query": "customer_tier:gold", "sort": "freq", "next": back}
    )
    assert response.status_code == 302 and response["Location"] == back
    saved = SavedSearch.objects.get()
    assert (saved.user, saved.query, saved.sort) == (jane, "customer_tier:gold", "freq")
    html = _page(client)
    assert "Gold &lt;b&gt;" in html and "query=customer_tier%3Agold&amp;sort=freq" in html
    client.post(url, {"name": "Gold <b>", "query": "level:error"})  # same name: replaced
    assert SavedSearch.objects.get().query == "level:error"
    assert client.post(url, {"name": "", "query": "x"}).status_code == 400
    assert (
        client.post(url, {"name": "x", "next": "https://evil.example/"})["Location"]
        == "/organizations/acme/issues/"
    )
    bob = user_with_membership(project, "bob")
    other = Client()
    other.force_login(bob)
    assert "Gold" not in other.get(LIST).content.decode()
    other.post(url, {"delete": saved.pk})  # not bob's
    assert SavedSearch.objects.filter(pk=saved.pk).exists()
    client.post(url, {"delete": saved.pk})
    assert not SavedSearch.objects.filter(pk=saved.pk).exists()


# --- API -----------------------------------------------------------------------------------------


def _api(user) -> Client:
    _, token = ApiToken.issue(user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.mark.parametrize(
    "params,message",
    [
        ({"query": "is:bogus"}, "is:bogus"),
        ({"query": "age:soon"}, "not a time"),
        ({"sort": "random"}, "sort must be"),
        ({"statsPeriod": "5y"}, "statsPeriod"),
        ({"start": "2026-01-01"}, "start and end"),
    ],
)
def test_api_bad_search_is_a_400_with_detail(stream, params, message):
    _, _, jane = stream
    for path in ("/api/0/projects/acme/web/issues/", "/api/0/organizations/acme/issues/"):
        response = _api(jane).get(path, params)
        assert response.status_code == 400 and message in response.json()["detail"], path


def test_api_search_sort_hits_and_query_counts(stream):
    project, _, jane = stream
    client = _api(jane)
    path = "/api/0/organizations/acme/issues/"
    response = client.get(path, {"query": "customer_tier:gold", "sort": "new", "project": project.pk})
    assert response.status_code == 200 and response["X-Hits"] == "2"
    assert [i["title"] for i in response.json()] == ["Error1: x", "Error0: x"]
    assert client.get(path, {"statsPeriod": "24h"})["X-Hits"] == "0"
    store_events(project.id, [_event(n) for n in range(10, 20)])
    with CaptureQueriesContext(connection) as two:
        assert len(client.get(path, {"limit": 2, "sort": "trends", "query": ""}).json()) == 0
    with CaptureQueriesContext(connection) as small:
        assert len(client.get(path, {"limit": 2, "sort": "freq", "query": ""}).json()) == 2
    with CaptureQueriesContext(connection) as large:
        assert len(client.get(path, {"limit": 12, "sort": "freq", "query": ""}).json()) == 12
    assert len(small) == len(large) and len(two) <= len(large)


def test_api_bulk_without_ids_changes_every_issue_matching_the_query(stream):
    _, _, jane = stream
    client = _api(jane)
    response = client.put(
        "/api/0/projects/acme/web/issues/?query=customer_tier:silver",
        {"status": "resolved"},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["status"] == "resolved"
    assert set(Issue.objects.filter(status="resolved").values_list("title", flat=True)) == {
        "Error2: x",
        "Error3: x",
    }
    bad = client.put("/api/0/organizations/acme/issues/?query=is:nope", {"status": "resolved"},
                     content_type="application/json")  # fmt: skip
    assert bad.status_code == 400 and "is:nope" in bad.json()["detail"]
    client.delete("/api/0/organizations/acme/issues/?query=customer_tier:gold")
    assert set(Issue.objects.values_list("title", flat=True)) == {"Error2: x", "Error3: x"}
