"""The older per-file release uploads (`releases/{version}/files/`): real multipart requests in
Sentry's shape, isolation and scopes, and frames mapped by release + dist + URL through them.
(sentry-cli 3.8.2 no longer takes this path: its `sourcemaps upload --release` always assembles an
artifact bundle, and it has no `releases files` command; older clients and scripts call these.)"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import ApiToken
from issues.store import store_events
from releases.models import Release
from sourcemaps.models import ReleaseFile
from sourcemaps.storage import blob_store
from tests.factories import prepared_event, user_with_membership
from tests.sourcemaps.test_processing import (  # noqa: F401 - fixtures
    _frames,
    _send,
    fresh_caches,
    js_event,
    js_project,
)
from tests.sourcemaps.test_upload import isolated_store  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parents[1] / "fixtures" / "sourcemaps"
FILES = "/api/0/organizations/acme/releases/shop@2.0/files/"
FILE_TYPES = {"id": str, "name": str, "headers": dict, "size": int, "sha1": str, "dateCreated": str}


def release_bundle_file(name: str) -> bytes:
    with zipfile.ZipFile(FIXTURES / "release-bundle.zip") as bundle:
        return bundle.read(f"files/_/_/static/js/{name}")


def post_file(client, url: str, data: bytes, filename: str, headers: dict | None = None, **fields):
    """A multipart/form-data request as older sentry-cli versions send it."""
    part = SimpleUploadedFile(filename, data, content_type="application/octet-stream")
    return client.post(url, {"file": part, **fields}, **(headers or {}))


@pytest.fixture
def with_release(js_project, client):  # noqa: F811 - the imported fixture
    client.post(
        "/api/0/organizations/acme/releases/", {"version": "shop@2.0", "projects": [js_project.slug]},
        content_type="application/json",
    )  # fmt: skip
    return js_project, client


def test_upload_list_detail_rename_and_delete_in_sentrys_shape(with_release):
    _, client = with_release
    script = release_bundle_file("app.min.js")
    created = post_file(
        client, FILES, script, "app.min.js", name="~/static/js/app.min.js", dist="web1",
        header=["Content-Type: application/javascript", "Sourcemap: app.min.js.map"],
    )  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    for field, kind in FILE_TYPES.items():
        assert isinstance(body[field], kind), field
    assert body["name"] == "~/static/js/app.min.js" and body["dist"] == "web1"
    assert body["sha1"] == hashlib.sha1(script).hexdigest() and body["size"] == len(script)
    assert body["headers"] == {"Content-Type": "application/javascript", "Sourcemap": "app.min.js.map"}
    again = post_file(client, FILES, script, "app.min.js", name="~/static/js/app.min.js", dist="web1")
    assert again.status_code == 409
    assert again.json() == {"detail": "A file matching this name already exists for the given release"}
    assert post_file(client, FILES, b"x", "notes.txt").json()["dist"] is None  # name defaults to the file's
    listed = client.get(FILES)
    assert [f["name"] for f in listed.json()] == ["notes.txt", "~/static/js/app.min.js"]
    assert 'rel="next"' in listed["Link"]
    assert [f["name"] for f in client.get(FILES, {"query": "app.min"}).json()] == ["~/static/js/app.min.js"]
    one = f"{FILES}{body['id']}/"
    assert client.get(one).json() == body
    downloaded = client.get(one, {"download": "1"})
    assert (
        downloaded.status_code == 200
        and b"".join(downloaded.streaming_content if downloaded.streaming else [downloaded.content]) == script
    )
    renamed = client.put(one, {"name": "~/static/js/app.js"}, content_type="application/json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "~/static/js/app.js"
    assert client.delete(one).status_code == 204 and client.get(one).status_code == 404
    assert blob_store().get(body["sha1"]) is None  # no other file held these bytes
    assert client.post(FILES, {"name": "x"}).json() == {"detail": "Missing uploaded file"}
    bad = post_file(client, FILES, b"x", "a.js", name="~/a\n.js")
    assert bad.status_code == 400 and "whitespace" in bad.json()["detail"]
    assert post_file(client, FILES, b"x", "a.js", header=["no colon"]).status_code == 400


def test_release_files_map_frames_by_release_dist_and_url(with_release, drain):
    project, client = with_release
    # The project path, as `sentry-cli releases files VERSION upload-sourcemaps` of sentry-cli 1.x/2.x.
    url = f"/api/0/projects/acme/{project.slug}/releases/shop@2.0/files/"
    for name in ("app.min.js", "app.min.js.map"):  # no Sourcemap header: the script's comment names its map
        response = post_file(
            client, url, release_bundle_file(name), name, name=f"~/static/js/{name}", dist="web1"
        )
        assert response.status_code == 201
    script = "https://cdn.example/static/js/app.min.js"
    event = js_event(script, 1, images=False, release="shop@2.0", dist="web1")
    _, thrower = _frames(_send(client, project, event, drain))
    assert (thrower["filename"], thrower["lineNo"], thrower["function"]) == (
        "/static/src/checkout.ts", 9, "submitOrder"
    )  # fmt: skip
    assert thrower["data"]["resolved_with"] == "release"
    other = js_event(script, 1, images=False, release="shop@2.0", dist="web2")
    frames = _frames(_send(client, project, other, drain))
    assert frames[1]["function"] == "r" and frames[1]["data"]["sourcemap_error"]["reason"] == "no_debug_id"


def test_isolation_scopes_and_release_deletion(with_release, make_project, client):
    project, member_client = with_release
    assert post_file(member_client, FILES, b"var a;", "a.js").status_code == 201
    other, _ = make_project(org="globex", slug="shop")
    outsider = {
        "HTTP_AUTHORIZATION": f"Bearer {ApiToken.issue(user_with_membership(other, username='o'))[1]}"
    }
    (file_id,) = ReleaseFile.objects.values_list("id", flat=True)
    for path in (
        FILES,
        f"{FILES}{file_id}/",
        f"/api/0/projects/acme/{project.slug}/releases/shop@2.0/files/",
    ):
        assert client.get(path, **outsider).status_code == 404, path
    assert client.delete(f"{FILES}{file_id}/", **outsider).status_code == 404
    assert post_file(client, FILES, b"x", "b.js", outsider).status_code == 404
    reader = user_with_membership(project, username="reader")
    read_only = {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.issue(reader, scopes=['project:read'])[1]}"}
    assert client.get(FILES, **read_only).status_code == 200
    assert post_file(client, FILES, b"x", "b.js", read_only).status_code == 403
    assert client.delete(f"{FILES}{file_id}/", **read_only).status_code == 403
    # Files of a release the project does not have: 404 on the project path.
    make_project(slug="admin")
    assert member_client.get("/api/0/projects/acme/admin/releases/shop@2.0/files/").status_code == 404
    # Deleting the release deletes its files (and their bytes).
    assert member_client.delete("/api/0/organizations/acme/releases/shop@2.0/").status_code == 204
    assert not ReleaseFile.objects.exists() and not Release.objects.filter(version="shop@2.0").exists()


def test_listing_costs_the_same_whatever_the_page(with_release, django_assert_max_num_queries):
    _, client = with_release
    post_file(client, FILES, b"0", "0.js")
    with django_assert_max_num_queries(20) as few:
        assert len(client.get(FILES).json()) == 1
    first = len(few.captured_queries)  # now: the uploads below would shift the connection's query log
    for n in range(1, 25):
        post_file(client, FILES, str(n).encode(), f"{n}.js")
    with django_assert_max_num_queries(first):
        assert len(client.get(FILES).json()) == 25


def test_a_referenced_release_keeps_its_files(with_release):
    project, client = with_release
    post_file(client, FILES, b"var a;", "a.js")
    store_events(project.id, [prepared_event(release="shop@2.0")])
    assert client.delete("/api/0/organizations/acme/releases/shop@2.0/").status_code == 400
    assert ReleaseFile.objects.count() == 1
