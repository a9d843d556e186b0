"""Releases and deploys: created by events and by the API, in Sentry's shapes, isolated by organization."""

from urllib.parse import quote

import pytest

from accounts.models import ApiToken
from issues.store import store_events
from projects.models import OrganizationMember
from releases.models import Deploy, Environment, Release, ReleaseProject
from tests.factories import BASE_TIME, prepared_event, user_with_membership

pytestmark = pytest.mark.django_db

# Types of the fields of Sentry's documented release example (docs.sentry.io, "Retrieve an
# Organization's Release"), plus the nullable ones filled here.
RELEASE_TYPES = {
    "id": int, "version": str, "shortVersion": str, "dateCreated": str, "newGroups": int,
    "commitCount": int, "deployCount": int, "authors": list, "projects": list, "data": dict,
}  # fmt: skip
NULLABLE_STR = ("ref", "url", "dateReleased", "firstEvent", "lastEvent")


@pytest.fixture
def api(make_project, client):
    project, _ = make_project()
    user = user_with_membership(project)
    _, token = ApiToken.issue(user)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return project, client


def check_release_shape(release: dict) -> None:
    for field, kind in RELEASE_TYPES.items():
        assert isinstance(release[field], kind), field
    for field in NULLABLE_STR:
        assert release[field] is None or isinstance(release[field], str), field
    assert release["lastDeploy"] is None or isinstance(release["lastDeploy"]["id"], str)
    for project in release["projects"]:
        assert isinstance(project["id"], int) and isinstance(project["slug"], str)
        assert isinstance(project["name"], str) and isinstance(project["newGroups"], int)


def test_an_event_creates_its_release_with_first_last_event_and_new_issues(api):
    project, client = api
    store_events(
        project.id,
        [
            prepared_event(hashes=["a" * 32], release="shop@1.0", seconds=10),
            prepared_event(hashes=["a" * 32], release="shop@1.0", seconds=5),
            prepared_event(hashes=["b" * 32], release="shop@1.0", seconds=30),
        ],
    )
    store_events(project.id, [prepared_event(hashes=["a" * 32], release="shop@1.1", seconds=60)])
    response = client.get("/api/0/organizations/acme/releases/")
    assert response.status_code == 200
    by_version = {r["version"]: r for r in response.json()}
    first = by_version["shop@1.0"]
    check_release_shape(first)
    assert first["newGroups"] == 2 and by_version["shop@1.1"]["newGroups"] == 0
    assert first["firstEvent"] == "2026-11-24T12:00:05Z" and first["lastEvent"] == "2026-11-24T12:00:30Z"
    assert first["shortVersion"] == "1.0" and first["versionInfo"]["package"] == "shop"
    assert [p["slug"] for p in first["projects"]] == ["web"] and first["projects"][0]["newGroups"] == 2
    assert Environment.objects.filter(project=project, name="production").exists()


def test_a_redelivered_batch_changes_no_release_count(api):
    project, _ = api
    events = [prepared_event(hashes=["a" * 32], release="1.0"), prepared_event(hashes=["b" * 32])]
    store_events(project.id, events)
    store_events(project.id, events)
    link = ReleaseProject.objects.get(release__version="1.0")
    assert link.new_groups == 2 and Release.objects.count() == 1


def test_events_with_an_invalid_release_create_none(api):
    project, _ = api
    store_events(project.id, [prepared_event(release=v) for v in ("", "a/b", "latest", "x\ny")])
    assert not Release.objects.exists()


def test_create_is_201_then_208_and_adds_projects(api, make_project):
    project, client = api
    make_project(slug="api")
    body = {"version": "2.0.0", "projects": ["web"], "ref": "abc", "url": "https://ci/1"}
    created = client.post("/api/0/organizations/acme/releases/", body, content_type="application/json")
    assert created.status_code == 201, created.content
    check_release_shape(created.json())
    assert created.json()["ref"] == "abc" and created.json()["dateReleased"] is None
    again = client.post(
        "/api/0/organizations/acme/releases/", {"version": "2.0.0", "projects": ["api", project.pk]},
        content_type="application/json",
    )  # fmt: skip
    assert again.status_code == 208
    assert sorted(p["slug"] for p in again.json()["projects"]) == ["api", "web"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"projects": ["web"]}, "version"),
        ({"version": "a/b", "projects": ["web"]}, "version"),
        ({"version": "1"}, "projects"),
        ({"version": "1", "projects": "web"}, "projects"),
        ({"version": "1", "projects": ["nope"]}, "projects"),
        ({"version": "1", "projects": ["web"], "dateReleased": "yesterday"}, "dateReleased"),
    ],
)
def test_invalid_create_is_a_400_naming_the_field(api, body, field):
    _, client = api
    response = client.post("/api/0/organizations/acme/releases/", body, content_type="application/json")
    assert response.status_code == 400 and field in response.json()


def test_version_in_the_url_is_decoded_and_finalize_sets_date_released(api):
    _, client = api
    version = "my app@1.0+build 7"
    client.post(
        "/api/0/organizations/acme/releases/", {"version": version, "projects": ["web"]},
        content_type="application/json",
    )  # fmt: skip
    url = f"/api/0/organizations/acme/releases/{quote(version)}/"
    assert client.get(url).json()["version"] == version
    finalized = client.put(url, {"dateReleased": "2026-12-01T10:00:00Z"}, content_type="application/json")
    assert finalized.status_code == 200 and finalized.json()["dateReleased"] == "2026-12-01T10:00:00Z"
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert client.delete(url).status_code == 404


def test_deploys_are_listed_newest_first_and_name_their_environment(api):
    project, client = api
    client.post(
        "/api/0/organizations/acme/releases/", {"version": "3.0", "projects": ["web"]},
        content_type="application/json",
    )  # fmt: skip
    url = "/api/0/organizations/acme/releases/3.0/deploys/"
    first = client.post(
        url,
        {"environment": "staging", "dateFinished": "2026-12-01T10:00:00Z"},
        content_type="application/json",
    )
    assert first.status_code == 201
    deploy = first.json()
    assert isinstance(deploy["id"], str) and deploy["environment"] == "staging" and deploy["name"] is None
    client.post(
        url,
        {"environment": "production", "name": "v3", "url": "https://ci/3"},
        content_type="application/json",
    )
    listed = client.get(url).json()
    assert [d["environment"] for d in listed] == ["production", "staging"]
    assert listed[0]["name"] == "v3" and listed[0]["dateFinished"] is not None
    release = client.get("/api/0/organizations/acme/releases/3.0/").json()
    assert release["deployCount"] == 2 and release["lastDeploy"]["environment"] == "production"
    envs = client.get("/api/0/projects/acme/web/environments/").json()
    assert {e["name"] for e in envs} == {"staging", "production"} and isinstance(envs[0]["id"], str)
    org_envs = client.get("/api/0/organizations/acme/environments/").json()
    assert [e["name"] for e in org_envs] == ["production", "staging"] and isinstance(org_envs[0]["id"], str)
    bad = client.post(url, {"environment": ""}, content_type="application/json")
    assert bad.status_code == 400 and "environment" in bad.json()


def test_project_releases_and_query_filter(api, make_project):
    project, client = api
    other, _ = make_project(slug="api")
    store_events(project.id, [prepared_event(release="web-1")])
    store_events(other.id, [prepared_event(release="api-1")])
    versions = lambda r: [x["version"] for x in r.json()]  # noqa: E731
    assert versions(client.get("/api/0/projects/acme/web/releases/")) == ["web-1"]
    assert versions(client.get("/api/0/organizations/acme/releases/?query=api")) == ["api-1"]
    assert versions(client.get(f"/api/0/organizations/acme/releases/?project={other.pk}")) == ["api-1"]


def test_another_organizations_releases_are_404(api, make_project, client):
    project, _ = api
    store_events(project.id, [prepared_event(release="secret-1")])
    other, _ = make_project(org="globex", slug="shop")
    outsider = user_with_membership(other, username="outsider")
    _, token = ApiToken.issue(outsider)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    for path in (
        "/api/0/organizations/acme/releases/",
        "/api/0/organizations/acme/releases/secret-1/",
        "/api/0/organizations/acme/releases/secret-1/deploys/",
        "/api/0/projects/acme/web/releases/",
        "/api/0/projects/acme/web/releases/secret-1/",
        "/api/0/projects/acme/web/environments/",
        "/api/0/organizations/acme/environments/",
    ):
        assert client.get(path, **auth).status_code == 404, path
    body = {"version": "x", "projects": ["web"]}
    assert (
        client.post(
            "/api/0/organizations/acme/releases/", body, content_type="application/json", **auth
        ).status_code
        == 404
    )
    assert client.delete("/api/0/organizations/acme/releases/secret-1/", **auth).status_code == 404
    assert Release.objects.filter(version="secret-1").exists()


def test_members_of_any_role_manage_releases(api):
    project, client = api
    assert OrganizationMember.objects.get().role == OrganizationMember.Role.MEMBER
    body = {"version": "m-1", "projects": ["web"]}
    assert (
        client.post("/api/0/organizations/acme/releases/", body, content_type="application/json").status_code
        == 201
    )


def test_release_list_queries_do_not_grow_with_the_page(api, django_assert_max_num_queries):
    project, client = api
    for n in range(3):
        store_events(project.id, [prepared_event(hashes=[f"{n:032d}"], release=f"r{n}")])
    with django_assert_max_num_queries(8) as small:
        client.get("/api/0/organizations/acme/releases/?per_page=2")
    for n in range(3, 20):
        store_events(project.id, [prepared_event(hashes=[f"{n:032d}"], release=f"r{n}")])
        Deploy.objects.create(
            release=Release.objects.get(version=f"r{n}"), environment="prod", date_finished=BASE_TIME
        )
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(client.get("/api/0/organizations/acme/releases/?per_page=20").json()) == 20


def test_archive_hides_a_release_from_lists_and_restore_brings_it_back(api):
    project, client = api
    store_events(project.id, [prepared_event(release="old-1")])
    url = "/api/0/organizations/acme/releases/old-1/"
    archived = client.put(url, {"status": "archived"}, content_type="application/json")
    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    assert client.get("/api/0/organizations/acme/releases/").json() == []
    assert [
        r["version"] for r in client.get("/api/0/organizations/acme/releases/?status=archived").json()
    ] == ["old-1"]
    client.put(url, {"status": "open"}, content_type="application/json")
    assert [r["version"] for r in client.get("/api/0/projects/acme/web/releases/").json()] == ["old-1"]
    assert client.put(url, {"status": "gone"}, content_type="application/json").status_code == 400


def test_a_release_its_issues_name_is_not_deleted(api):
    """Sentry's Release.safe_delete: 400 with its message while an issue was first (or last) seen in it."""
    project, client = api
    store_events(project.id, [prepared_event(release="used-1")])
    client.post(
        "/api/0/organizations/acme/releases/", {"version": "unused-1", "projects": ["web"]},
        content_type="application/json",
    )  # fmt: skip
    for path in ("/api/0/organizations/acme/releases/used-1/", "/api/0/projects/acme/web/releases/used-1/"):
        refused = client.delete(path)
        assert refused.status_code == 400 and refused.json() == {
            "detail": "This release is referenced by active issues and cannot be removed."
        }
    assert Release.objects.filter(version="used-1").exists()
    assert client.delete("/api/0/organizations/acme/releases/unused-1/").status_code == 204
    assert not Release.objects.filter(version="unused-1").exists()


def test_project_release_details(api, make_project):
    project, client = api
    store_events(project.id, [prepared_event(release="shop@3")])
    make_project(slug="other")
    url = "/api/0/projects/acme/web/releases/shop@3/"
    release = client.get(url).json()
    check_release_shape(release)
    assert release["version"] == "shop@3" and release["newGroups"] == 1
    assert client.get("/api/0/projects/acme/other/releases/shop@3/").status_code == 404
    assert client.get("/api/0/projects/acme/web/releases/nope/").status_code == 404
    finalized = client.put(url, {"dateReleased": "2026-12-01T10:00:00Z"}, content_type="application/json")
    assert finalized.status_code == 200 and finalized.json()["dateReleased"] == "2026-12-01T10:00:00Z"
    client.post(
        "/api/0/projects/acme/web/releases/", {"version": "shop@4"}, content_type="application/json"
    )  # fmt: skip
    assert client.delete("/api/0/projects/acme/web/releases/shop@4/").status_code == 204
    assert client.get("/api/0/projects/acme/web/releases/shop@4/").status_code == 404
