"""Release pages: a project's releases with their counts, a release with the issues first seen in it."""

from urllib.parse import quote

import pytest

from issues.models import Issue
from issues.store import store_events
from releases.models import Release
from releases.services import create_deploy
from tests.factories import prepared_event, user_with_membership

pytestmark = pytest.mark.django_db
RELEASES = "/organizations/acme/projects/web/releases/"


@pytest.fixture
def logged_in(make_project, client):
    project, _ = make_project()
    client.force_login(user_with_membership(project))
    return project, client


def test_project_releases_show_new_issues_events_and_dates(logged_in):
    project, client = logged_in
    store_events(
        project.id,
        [prepared_event(hashes=["a" * 32], release="1.0"), prepared_event(hashes=["a" * 32], release="1.0")],
    )
    store_events(
        project.id,
        [prepared_event(hashes=["a" * 32], release="1.1"), prepared_event(hashes=["b" * 32], release="1.1")],
    )
    html = client.get(RELEASES).content.decode()
    assert html.index(">1.1<") < html.index(">1.0<")  # newest first
    row = html[html.index(">1.0<") :].split("</tr>")[0]
    assert "<td>1</td>" in row and "<td>2</td>" in row and "ago" in row  # 1 new issue, 2 events
    assert f'href="{RELEASES}1.0/"' in html
    assert "Releases</a>" in client.get("/organizations/acme/projects/web/").content.decode()


def test_release_page_lists_the_issues_first_seen_in_it(logged_in):
    project, client = logged_in
    store_events(project.id, [prepared_event(hashes=["a" * 32], release="1.0", title="KeyError: old")])
    store_events(project.id, [prepared_event(hashes=["b" * 32], release="1.1", title="TypeError: new")])
    store_events(project.id, [prepared_event(hashes=["a" * 32], release="1.1")])
    create_deploy(Release.objects.get(version="1.1"), "production", name="canary")
    html = client.get(f"{RELEASES}1.1/").content.decode()
    assert "TypeError: new" in html and "KeyError: old" not in html and "canary" in html
    issue = Issue.objects.get(title="TypeError: new")
    assert f"/issues/{issue.pk}/" in html


def test_versions_are_escaped_and_url_encoded(logged_in):
    project, client = logged_in
    version = "<img src=x onerror=alert(1)> 2"
    store_events(project.id, [prepared_event(release=version)])
    listing = client.get(RELEASES).content.decode()
    assert "<img src=x" not in listing and "&lt;img src=x onerror=alert(1)&gt; 2" in listing
    detail = client.get(f"{RELEASES}{quote(version)}/")
    assert detail.status_code == 200 and "<img src=x" not in detail.content.decode()


def test_unknown_release_and_other_organizations_are_404(logged_in, make_project, client):
    project, _ = logged_in
    store_events(project.id, [prepared_event(release="1.0")])
    assert client.get(f"{RELEASES}9.9/").status_code == 404
    other, _ = make_project(org="globex", slug="shop")
    client.force_login(user_with_membership(other, username="outsider"))
    assert client.get(RELEASES).status_code == 404 and client.get(f"{RELEASES}1.0/").status_code == 404


def test_anonymous_visits_redirect_to_login(make_project, client):
    make_project()
    for url in (RELEASES, f"{RELEASES}1.0/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_release_pages_queries_do_not_grow_with_the_page(logged_in, django_assert_max_num_queries):
    project, client = logged_in
    store_events(project.id, [prepared_event(hashes=[f"{n:032d}"], release=f"r{n % 2}") for n in range(2)])
    counts = {}
    for url in (RELEASES, f"{RELEASES}r0/"):
        with django_assert_max_num_queries(20) as few:
            client.get(url)
        counts[url] = len(few.captured_queries)
    store_events(
        project.id,
        [prepared_event(hashes=[f"{n:032d}"], release="r0" if n % 3 else f"r{n}") for n in range(2, 40)],
    )
    for url in (RELEASES, f"{RELEASES}r0/"):
        with django_assert_max_num_queries(counts[url]):
            client.get(url)
