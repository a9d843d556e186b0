"""Web pages: login, navigation, the issue page, escaping of untrusted event content."""

import pytest

from issues.models import Issue
from issues.store import store_events
from tests.factories import rich_prepared_event, user_with_membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(make_project, client):
    project, _ = make_project()
    user = user_with_membership(project)
    client.force_login(user)
    store_events(project.id, [rich_prepared_event(seconds=1), rich_prepared_event(seconds=2)])
    return project, client, Issue.objects.get()


def test_anonymous_visits_redirect_to_login(client, make_project):
    make_project()
    for url in ("/", "/organizations/acme/projects/web/", "/organizations/acme/projects/web/issues/1/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_login_page_uses_standard_fields(client):
    html = client.get("/login/").content.decode()
    assert 'name="username"' in html and 'name="password"' in html and "csrfmiddlewaretoken" in html


def test_home_links_to_issue_list_which_links_to_issue(logged_in):
    project, client, issue = logged_in
    home = client.get("/").content.decode()
    assert 'href="/organizations/acme/projects/web/"' in home
    listing = client.get("/organizations/acme/projects/web/").content.decode()
    assert (
        f'href="http://127.0.0.1:8000/organizations/acme/projects/web/issues/{issue.id}/"'
        in listing.replace("localhost", "127.0.0.1")
        or f"/issues/{issue.id}/" in listing
    )


def test_issue_page_shows_the_event_and_escapes_its_content(logged_in):
    _, client, issue = logged_in
    html = client.get(f"/organizations/acme/projects/web/issues/{issue.id}/").content.decode()
    for expected in (
        "ZeroDivisionError",
        "total",
        "In App",
        "return sum(items) / len(items)",
        "GET /cart",
        "jane@example.com",
        "eu-west-1",
        "CPython",
        "c-77",
        "Resolve",
        "shop@2.0",
        "Older event",
    ):
        assert expected in html, expected
    assert "<script>alert(" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(" in html


def test_resolve_button_resolves(logged_in):
    _, client, issue = logged_in
    response = client.post(
        f"/organizations/acme/projects/web/issues/{issue.id}/status/", {"status": "resolved"}
    )
    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.status == "resolved"


def test_status_form_needs_csrf(logged_in):
    from django.test import Client

    _, client, issue = logged_in
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client.cookies
    response = strict.post(
        f"/organizations/acme/projects/web/issues/{issue.id}/status/", {"status": "resolved"}
    )
    assert response.status_code == 403


def test_other_organizations_issue_is_404(logged_in, make_project):
    project, client, _ = logged_in
    other, _ = make_project(org="rival", slug="app")
    store_events(other.id, [rich_prepared_event(hashes=["f" * 32])])
    other_issue = Issue.objects.get(project=other)
    assert client.get(f"/organizations/rival/projects/app/issues/{other_issue.id}/").status_code == 404
    assert client.get("/organizations/rival/projects/app/").status_code == 404


def test_a_search_over_the_term_limit_says_so_under_the_search_bar(logged_in):
    project, client, issue = logged_in
    response = client.get("/organizations/acme/projects/web/", {"query": " ".join(["level:error"] * 30)})
    html = response.content.decode()
    assert response.status_code == 200 and "at most 20 terms" in html and f"/issues/{issue.id}/" not in html
