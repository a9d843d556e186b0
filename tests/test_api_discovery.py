"""The API root, discovery endpoints and client keys: Sentry's shapes and types, roles, isolation,
and JSON (never HTML) for every unknown route."""

import uuid
from datetime import datetime
from types import SimpleNamespace

import pytest
from django.test import Client

from accounts.models import ApiToken
from ingest.project_config import clear_project_config_cache
from issues.store import store_events
from projects.access import ORG_READ, RELEASE_WRITE, token_allows
from projects.models import OrganizationMember, ProjectKey
from projects.services import add_member, record_first_event
from tests.conftest import make_event_envelope, post_envelope
from tests.factories import prepared_event, user_with_membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(make_project, client):
    project, key = make_project()
    user = user_with_membership(project)
    user.email = "member@example.com"
    user.save()
    _, token = ApiToken.issue(user)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return project, key, user, client


def _make_owner(user, project):
    OrganizationMember.objects.filter(user=user).update(role=OrganizationMember.Role.OWNER)


def test_api_root_names_the_user_and_the_scopes(api, client):
    _, _, user, _ = api
    root = client.get("/api/0/").json()
    assert root["version"] == "0" and root["user"]["email"] == "member@example.com"
    assert root["user"]["id"] == str(user.pk) and "project:releases" in root["auth"]["scopes"]
    assert "project:admin" not in root["auth"]["scopes"]
    anonymous = client.get("/api/0/", HTTP_AUTHORIZATION="")
    assert anonymous.status_code == 200 and anonymous.json() == {"version": "0", "auth": None, "user": None}
    for path in (
        "/api/0/organizations/",
        "/api/0/organizations/acme/releases/",
        "/api/0/projects/acme/web/keys/",
    ):
        assert client.get(path, HTTP_AUTHORIZATION="").status_code == 401, path


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/0/nothing/here/"),
        ("post", "/api/0/organizations/acme/nothing/"),
        ("delete", "/api/0/projects/acme/web/unknown/"),
        ("get", "/api/0/organizations/acme/releases"),  # no trailing slash: Sentry's routes need it
    ],
)
def test_unknown_routes_answer_json_404(api, method, path):
    *_, client = api
    response = getattr(client, method)(path)
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert "detail" in response.json()
    assert ("slash" in response.json()["detail"]) == (not path.endswith("/"))


def test_unknown_method_is_a_json_405(api):
    *_, client = api
    response = client.patch("/api/0/organizations/acme/releases/")
    assert response.status_code == 405 and "detail" in response.json()


def test_organizations_and_detail(api):
    *_, client = api
    (org,) = client.get("/api/0/organizations/").json()
    assert org["slug"] == "acme" and isinstance(org["id"], str) and isinstance(org["dateCreated"], str)
    assert org["isEarlyAdopter"] is False and org["require2FA"] is False and isinstance(org["features"], list)
    detail = client.get("/api/0/organizations/acme/").json()
    assert detail["orgRole"] == "member" and "org:read" in detail["access"]


def test_projects_lists_and_detail(api, make_project):
    project, *_, client = api
    make_project(slug="api")
    listed = client.get("/api/0/organizations/acme/projects/").json()
    assert [p["slug"] for p in listed] == ["api", "web"]
    web = listed[1]
    assert (
        web["id"] == str(project.pk) and web["team"]["slug"] == "web" and isinstance(web["team"]["id"], str)
    )
    assert web["platform"] == "python" and isinstance(web["dateCreated"], str)
    everywhere = client.get("/api/0/projects/").json()
    assert {p["organization"]["slug"] for p in everywhere} == {"acme"}
    detail = client.get("/api/0/projects/acme/web/").json()
    assert detail["slug"] == "web" and detail["organization"]["slug"] == "acme"


def test_project_objects_in_sentrys_types(api):
    """Sentry's documented project example: ids strings, flags booleans, firstEvent a date or null."""
    project, _, user, client = api
    (web,) = client.get("/api/0/organizations/acme/projects/").json()
    assert web["firstEvent"] is None and web["isMember"] is False and web["hasAccess"] is True
    for flag in ("isBookmarked", "isPublic", "isInternal", "hasSessions", "hasMinifiedStackTrace"):
        assert isinstance(web[flag], bool), flag
    assert isinstance(web["features"], list) and isinstance(web["avatar"], dict)
    assert web["teams"] == [{"id": str(project.team.pk), "slug": "web", "name": "web"}]
    project.team.members.add(user)
    store_events(project.id, [prepared_event()])  # as the batch writer does for a first event
    record_first_event(project.id)
    record_first_event(project.id)  # set once: a later batch does not move it
    first = client.get("/api/0/projects/acme/web/").json()
    assert first["isMember"] is True and first["dateCreated"].endswith("Z")
    moment = datetime.fromisoformat(first["firstEvent"])
    assert (
        moment.tzinfo is not None
        and first["firstEvent"] == client.get("/api/0/projects/").json()[0]["firstEvent"]
    )


def test_teams_and_members(api):
    project, _, user, client = api
    project.team.members.add(user)
    (team,) = client.get("/api/0/organizations/acme/teams/").json()
    assert team["slug"] == "web" and team["isMember"] is True and team["memberCount"] == 1
    (member,) = client.get("/api/0/organizations/acme/members/").json()
    assert member["email"] == "member@example.com" and member["role"] == "member"
    assert isinstance(member["id"], str) and member["user"]["id"] == str(user.pk)


def test_discovery_queries_do_not_grow_with_the_page(api, make_project, django_assert_max_num_queries):
    *_, client = api
    paths = ["/api/0/organizations/acme/projects/", "/api/0/projects/", "/api/0/organizations/acme/teams/",
             "/api/0/organizations/acme/members/"]  # fmt: skip
    counts = {}
    for path in paths:
        with django_assert_max_num_queries(10) as few:
            client.get(path)
        counts[path] = len(few.captured_queries)
    for n in range(12):
        project, _ = make_project(slug=f"p{n}")
        add_member(project.organization, user_with_membership(project, username=f"u{n}"))
    for path in paths:
        with django_assert_max_num_queries(counts[path]):
            client.get(path)


def test_keys_in_sentrys_shape_and_writes_need_an_owner_or_manager(api):
    project, key, user, client = api
    (listed,) = client.get("/api/0/projects/acme/web/keys/").json()
    assert listed["id"] == key.public_key and listed["projectId"] == project.pk
    assert listed["dsn"]["public"] == key.dsn() and key.public_key in listed["dsn"]["csp"]
    assert (
        listed["isActive"] is True and listed["rateLimit"] is None and isinstance(listed["dateCreated"], str)
    )
    assert (
        client.post(
            "/api/0/projects/acme/web/keys/", {"name": "CI"}, content_type="application/json"
        ).status_code
        == 403
    )
    _make_owner(user, project)
    created = client.post("/api/0/projects/acme/web/keys/", {"name": "CI"}, content_type="application/json")
    assert created.status_code == 201 and created.json()["name"] == "CI"
    url = f"/api/0/projects/acme/web/keys/{created.json()['id']}/"
    body = {"isActive": False, "rateLimit": {"window": 3600, "count": 600}}
    updated = client.put(url, body, content_type="application/json").json()
    assert updated["isActive"] is False and updated["rateLimit"] == {"window": 60, "count": 10}
    assert ProjectKey.objects.get(public_key=created.json()["id"]).rate_limit_per_minute == 10
    assert (
        client.put(url, {"rateLimit": {"window": 0, "count": 1}}, content_type="application/json").status_code
        == 400
    )
    assert client.delete(url).status_code == 204 and client.delete(url).status_code == 404


def test_another_organization_is_404_everywhere(api, make_project, client):
    project, key, *_ = api
    other, _ = make_project(org="globex", slug="shop")
    outsider = user_with_membership(other, username="outsider")
    OrganizationMember.objects.filter(user=outsider).update(role=OrganizationMember.Role.OWNER)
    _, token = ApiToken.issue(outsider)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    for path in (
        "/api/0/organizations/acme/", "/api/0/organizations/acme/projects/", "/api/0/organizations/acme/teams/",
        "/api/0/organizations/acme/members/", "/api/0/projects/acme/web/", "/api/0/projects/acme/web/keys/",
        f"/api/0/projects/acme/web/keys/{key.public_key}/", "/api/0/projects/acme/web/events/",
        "/api/0/organizations/acme/stats_v2/", "/api/0/projects/acme/web/stats/",
        "/api/0/organizations/acme/eventids/" + "ab" * 16 + "/",
    ):  # fmt: skip
        assert client.get(path, **auth).status_code == 404, path
    assert client.delete(f"/api/0/projects/acme/web/keys/{key.public_key}/", **auth).status_code == 404
    assert [o["slug"] for o in client.get("/api/0/organizations/", **auth).json()] == ["globex"]
    assert [p["slug"] for p in client.get("/api/0/projects/", **auth).json()] == ["shop"]


def test_token_scopes_narrow_what_a_token_may_do():
    """Tokens that carry scopes (Sentry's) need one of the endpoint's; tokens without act as their user."""
    ci = SimpleNamespace(scopes=["project:releases"])
    releases = {"GET": ORG_READ, "POST": RELEASE_WRITE}
    assert token_allows(ci, "POST", releases) and not token_allows(ci, "GET", releases)
    assert not token_allows(ci, "HEAD", releases) and token_allows(ci, "PATCH", releases)
    assert token_allows(object(), "GET", releases) and token_allows(None, "POST", releases)


def test_the_batch_writer_sets_first_event_once(fixture_project, drain):
    project, _ = fixture_project
    clear_project_config_cache()  # no config cached by an earlier test for this id
    api = Client(HTTP_AUTHORIZATION=f"Bearer {ApiToken.issue(user_with_membership(project))[1]}")
    assert api.get("/api/0/projects/acme/web/").json()["firstEvent"] is None
    envelope = make_event_envelope({"message": "first", "platform": "python"}, uuid.uuid4().hex)
    assert post_envelope(Client(), project.id, envelope).status_code == 200
    drain()
    first = api.get("/api/0/projects/acme/web/").json()["firstEvent"]
    assert isinstance(first, str) and datetime.fromisoformat(first).tzinfo is not None
    clear_project_config_cache()
    envelope = make_event_envelope({"message": "second", "platform": "python"}, uuid.uuid4().hex)
    assert post_envelope(Client(), project.id, envelope).status_code == 200
    drain()
    assert api.get("/api/0/projects/acme/web/").json()["firstEvent"] == first
