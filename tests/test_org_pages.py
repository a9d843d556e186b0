"""Organization, project and client-key pages: who may do what (404 outside, 403 without the role),
validation errors shown, CSRF on every form, bounded queries, and the header's switchers."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from issues.store import store_events
from projects.models import Organization, OrganizationMember, Project, ProjectKey, Team
from projects.services import create_project, record_first_event
from tests.factories import as_user, organization_with_roles, prepared_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_project):
    return organization_with_roles(make_project)


def test_anyone_logged_in_creates_an_organization_and_owns_it(people):
    _, _, users = people
    client = as_user(users["mia"])
    page = client.get("/organizations/new/").content.decode()
    assert "csrfmiddlewaretoken" in page
    response = client.post("/organizations/new/", {"name": "Blue Sky"})
    assert response.status_code == 302 and response["Location"] == "/organizations/blue-sky/"
    org = Organization.objects.get(slug="blue-sky")
    assert org.name == "Blue Sky"
    assert OrganizationMember.objects.get(organization=org, user=users["mia"]).role == "owner"
    assert "Blue Sky" in client.get("/organizations/blue-sky/").content.decode()


@pytest.mark.parametrize(
    "name, error",
    [("acme", "exists already"), ("new", "reserved"), ("!!!", "at least one letter"), ("", "required")],
)
def test_organization_form_shows_validation_errors(people, name, error):
    _, _, users = people
    response = as_user(users["mia"]).post("/organizations/new/", {"name": name})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert Organization.objects.count() == 2


def test_organization_page_is_for_members_only(people, client):
    _, _, users = people
    assert as_user(users["mia"]).get("/organizations/acme/").status_code == 200
    assert as_user(users["otto"]).get("/organizations/acme/").status_code == 404
    assert as_user(users["otto"]).get("/organizations/nowhere/").status_code == 404
    assert client.get("/organizations/acme/").status_code == 302


def test_manager_creates_a_project_and_sees_its_dsn_and_sdk_snippets_at_once(people):
    _, _, users = people
    client = as_user(users["manny"])
    team = Team.objects.get(slug="web")
    assert "csrfmiddlewaretoken" in client.get("/organizations/acme/projects/new/").content.decode()
    response = client.post(
        "/organizations/acme/projects/new/", {"name": "Shop API", "platform": "node", "teams": [team.id]}
    )
    assert response.status_code == 302
    assert response["Location"] == "/organizations/acme/projects/shop-api/keys/?created=1"
    project = Project.objects.get(slug="shop-api")
    assert list(project.teams.all()) == [team] and project.platform == "node"
    page = client.get(response["Location"]).content.decode()
    dsn = project.keys.get().dsn()
    assert "created" in page and page.count(dsn) >= 4  # the keys table and three snippets
    for snippet in ("sentry_sdk.init(", 'require("@sentry/node")', 'from "@sentry/browser"'):
        assert snippet in page


def test_project_without_chosen_team_gets_a_team_of_its_own(people):
    _, _, users = people
    as_user(users["olivia"]).post(
        "/organizations/acme/projects/new/", {"name": "mobile", "platform": "other"}
    )
    assert list(Project.objects.get(slug="mobile").teams.values_list("slug", flat=True)) == ["mobile"]


def test_project_form_refuses_duplicates_reserved_names_and_foreign_teams(people):
    _, _, users = people
    client = as_user(users["manny"])
    foreign_team = Team.objects.get(slug="secret")
    for data, error in [
        ({"name": "web", "platform": "python"}, "exists already"),
        ({"name": "new", "platform": "python"}, "reserved"),
        ({"name": "ok", "platform": "cobol"}, "Select a valid choice"),
        ({"name": "ok", "platform": "python", "teams": [foreign_team.id]}, "Select a valid choice"),
    ]:
        response = client.post("/organizations/acme/projects/new/", data)
        assert response.status_code == 200 and error in response.content.decode(), data
    assert Project.objects.filter(organization__slug="acme").count() == 1


def test_members_cannot_create_projects_and_outsiders_do_not_see_the_page(people):
    _, _, users = people
    assert as_user(users["mia"]).get("/organizations/acme/projects/new/").status_code == 403
    forbidden = as_user(users["mia"]).post("/organizations/acme/projects/new/", {"name": "x"})
    assert forbidden.status_code == 403 and "Not allowed" in forbidden.content.decode()
    assert as_user(users["otto"]).post("/organizations/acme/projects/new/", {"name": "x"}).status_code == 404
    assert not Project.objects.filter(slug="x").exists()


def test_members_see_the_dsn_but_only_managers_rotate_and_disable(people):
    project, key, users = people
    member_page = as_user(users["mia"]).get("/organizations/acme/projects/web/keys/").content.decode()
    assert key.dsn() in member_page and ">Rotate</button>" not in member_page
    url = f"/organizations/acme/projects/web/keys/{key.id}/"
    assert as_user(users["mia"]).post(url + "rotate/").status_code == 403
    assert as_user(users["otto"]).post(url + "rotate/").status_code == 404
    assert as_user(users["otto"]).get("/organizations/acme/projects/web/keys/").status_code == 404

    manager = as_user(users["manny"])
    assert ">Rotate</button>" in manager.get("/organizations/acme/projects/web/keys/").content.decode()
    assert manager.post(url + "rotate/").status_code == 302
    old, new = ProjectKey.objects.filter(project=project).order_by("id")
    assert not old.is_active and new.is_active and new.public_key != old.public_key
    page = manager.get("/organizations/acme/projects/web/keys/").content.decode()
    assert new.dsn() in page and old.dsn() in page and "disabled" in page
    assert f"Rotated: a new key ending in …{new.public_key[-6:]}" in page  # said once, after the rotate
    assert f"keys/{old.id}/rotate/" not in page and f"keys/{new.id}/rotate/" in page  # not for a disabled key
    assert (
        manager.post(f"/organizations/acme/projects/web/keys/{new.id}/active/", {"active": "0"}).status_code
        == 302
    )
    assert not ProjectKey.objects.filter(is_active=True, project=project).exists()
    assert "Every key is disabled" in manager.get("/organizations/acme/projects/web/keys/").content.decode()
    manager.post(f"/organizations/acme/projects/web/keys/{new.id}/active/", {"active": "1"})
    assert ProjectKey.objects.get(pk=new.pk).is_active


def test_the_project_pages_show_the_dsns_and_the_list_until_the_first_event(people):
    project, key, users = people
    settings = as_user(users["mia"]).get("/organizations/acme/projects/web/settings/").content.decode()
    assert key.dsn() in settings and 'href="/organizations/acme/projects/web/keys/"' in settings
    assert (
        "Rotate, disable"
        in as_user(users["manny"]).get("/organizations/acme/projects/web/settings/").content.decode()
    )
    first = as_user(users["mia"]).get("/organizations/acme/projects/web/").content.decode()
    assert "first event" in first and key.dsn() in first
    store_events(project.id, [prepared_event()])
    record_first_event(project.id)  # as the batch writer does (ingest/tasks.py)
    later = as_user(users["mia"]).get("/organizations/acme/projects/web/").content.decode()
    assert "first event" not in later and key.dsn() not in later


def test_a_key_of_another_project_is_not_found(people):
    _, _, users = people
    foreign = ProjectKey.objects.get(project__slug="secret")
    response = as_user(users["olivia"]).post(f"/organizations/acme/projects/web/keys/{foreign.id}/rotate/")
    assert response.status_code == 404 and ProjectKey.objects.get(pk=foreign.pk).is_active


def test_a_rotated_key_is_refused_by_ingest(people):
    project, key, users = people
    as_user(users["manny"]).post(f"/organizations/acme/projects/web/keys/{key.id}/rotate/")
    from ingest.keys import clear_key_cache

    clear_key_cache()  # what INGEST_KEY_CACHE_SECONDS does in a running process
    auth = {"HTTP_X_SENTRY_AUTH": f"Sentry sentry_key={key.public_key}, sentry_version=7"}
    response = Client().post(f"/api/{project.id}/store/", data=b"{}", content_type="application/json", **auth)
    assert response.status_code == 403


def test_every_form_needs_csrf(people):
    project, key, _ = people
    owner = get_user_model().objects.get(username="olivia")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    for url, data in [
        ("/organizations/new/", {"name": "x"}),
        ("/organizations/acme/projects/new/", {"name": "x", "platform": "python"}),
        (f"/organizations/acme/projects/web/keys/{key.id}/rotate/", {}),
        (f"/organizations/acme/projects/web/keys/{key.id}/active/", {"active": "0"}),
    ]:
        assert strict.post(url, data).status_code == 403, url
    assert ProjectKey.objects.get(pk=key.pk).is_active and not Organization.objects.filter(slug="x").exists()


def test_header_switches_between_own_organizations_and_projects_only(people):
    _, _, users = people
    create_project("acme", "api")
    page = as_user(users["mia"]).get("/organizations/acme/projects/web/keys/").content.decode()
    header = page.split("</header>")[0]
    for link in (
        'href="/organizations/acme/"',
        'href="/organizations/acme/projects/api/"',
        'href="/organizations/acme/projects/web/settings/"',
        'href="/organizations/acme/projects/web/logs/"',
        'href="/organizations/acme/usage/"',
        'href="/account/"',
    ):
        assert link in header, link
    org_header = as_user(users["mia"]).get("/organizations/acme/").content.decode().split("</header>")[0]
    assert (
        'href="/organizations/acme/issues/"' in org_header
        and 'href="/organizations/acme/logs/"' in org_header
    )
    missing = as_user(users["mia"]).get("/organizations/acme/projects/nope/")
    assert missing.status_code == 404 and "projects/nope/logs/" not in missing.content.decode()
    # Pages of no organization link to the user's only one: home, account, a 404, another's page.
    for url in ("/account/", "/no-such-page/", "/organizations/theirs/"):
        header = as_user(users["mia"]).get(url).content.decode().split("</header>")[0]
        assert 'href="/organizations/acme/usage/"' in header and 'href="/organizations/acme/logs/"' in header
        assert "theirs" not in header, url
    create_project("second", "app", owner=users["mia"])  # with two, the switcher chooses
    header = as_user(users["mia"]).get("/account/").content.decode().split("</header>")[0]
    assert "/usage/" not in header and 'href="/organizations/second/"' in header
    assert "theirs" not in header and "projects/new" not in header  # mia is a plain member
    manager_header = (
        as_user(users["manny"]).get("/organizations/acme/").content.decode().split("</header>")[0]
    )
    assert 'href="/organizations/acme/projects/new/"' in manager_header
    assert 'href="/organizations/acme/members/"' in manager_header


def test_pages_take_a_bounded_number_of_queries(people, django_assert_max_num_queries):
    _, _, users = people
    for i in range(8):
        create_project("acme", f"p{i}")
    client = as_user(users["olivia"])
    for url in (
        "/organizations/acme/",
        "/organizations/acme/projects/new/",
        "/organizations/acme/projects/p1/keys/",
        "/organizations/new/",
    ):
        with django_assert_max_num_queries(10):
            assert client.get(url).status_code == 200, url
    # The issue list adds its total, sparkline buckets, environments, saved searches and the
    # assignee choices (each one query whatever the page size, tests/test_issue_stream.py).
    with django_assert_max_num_queries(14):
        assert client.get("/organizations/acme/projects/web/").status_code == 200


def test_a_user_without_organizations_is_pointed_to_creating_one(db):
    loner = get_user_model().objects.create_user(username="loner")
    home = as_user(loner).get("/").content.decode()
    assert 'href="/organizations/new/"' in home.split("</header>")[1]


def test_members_read_project_settings_that_only_managers_can_save(people):
    _, _, users = people
    url = "/organizations/acme/projects/web/settings/"
    member_page = as_user(users["mia"]).get(url).content.decode()
    assert "<fieldset" in member_page and " disabled>" in member_page and "Save settings" not in member_page
    refused = as_user(users["mia"]).post(url, {"retention_days": "1"})
    assert refused.status_code == 403 and "Only owners and managers" in refused.content.decode()
    manager_page = as_user(users["manny"]).get(url).content.decode()
    assert " disabled>" not in manager_page and "Save settings" in manager_page
