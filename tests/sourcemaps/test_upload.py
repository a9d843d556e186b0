"""chunk-upload/ and artifactbundle/assemble/ as sentry-cli 3 drives them, with the bundles it made."""

from __future__ import annotations

import gzip
import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import ApiToken
from sourcemaps.models import ArtifactBundle, AssembleJob, BundleFile, UploadChunk
from sourcemaps.storage import blob_store
from sourcemaps.tasks import assemble_bundles, cleanup_artifact_bundles
from tests.factories import user_with_membership

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parents[1] / "fixtures" / "sourcemaps"
CHUNKS = "/api/0/organizations/acme/chunk-upload/"
ASSEMBLE = "/api/0/organizations/acme/artifactbundle/assemble/"


@pytest.fixture(autouse=True)
def isolated_store(settings, tmp_path):
    settings.SOURCEMAPS = {**settings.SOURCEMAPS, "BLOB_STORE": "sourcemaps.storage.FileBlobStore"}
    settings.DATA_DIR = tmp_path
    blob_store.cache_clear()
    yield
    blob_store.cache_clear()


@pytest.fixture
def uploader(make_project, client):
    project, _ = make_project(platform="javascript")
    user = user_with_membership(project)
    _, token = ApiToken.issue(user, scopes=["project:releases"])
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return project, client


def upload(client, data: bytes, **assemble_fields) -> dict:
    """What sentry-cli does: ask, upload the missing chunks, ask again, poll until done."""
    checksum = hashlib.sha1(data).hexdigest()
    body = {"checksum": checksum, "chunks": [checksum], "projects": ["web"], **assemble_fields}
    first = client.post(ASSEMBLE, body, content_type="application/json").json()
    assert first == {"state": "not_found", "missingChunks": [checksum]}
    part = SimpleUploadedFile(checksum, gzip.compress(data), content_type="application/octet-stream")
    assert client.post(CHUNKS, {"file_gzip": part}).status_code == 200
    second = client.post(ASSEMBLE, body, content_type="application/json").json()
    assert second["state"] == "created" and second["missingChunks"] == []
    assemble_bundles.run()  # the worker (kicked through core.dispatch in a running installation)
    return client.post(ASSEMBLE, body, content_type="application/json").json()


def test_chunk_upload_options_are_sentrys(uploader):
    _, client = uploader
    options = client.get(CHUNKS).json()
    assert options["url"] == "http://testserver/api/0/organizations/acme/chunk-upload/"
    assert options["hashAlgorithm"] == "sha1" and options["compression"] == ["gzip"]
    assert "artifact_bundles" in options["accept"]
    for name in ("chunkSize", "chunksPerRequest", "maxRequestSize", "maxFileSize", "concurrency"):
        assert isinstance(options[name], int) and options[name] > 0, name


def test_a_debug_id_bundle_is_assembled_indexed_and_stored_once(uploader):
    project, client = uploader
    data = (FIXTURES / "debug-id-bundle.zip").read_bytes()
    assert upload(client, data) == {"state": "ok", "detail": None, "missingChunks": []}
    bundle = ArtifactBundle.objects.get()
    assert bundle.bundle_id == "74b021f7-ece3-56a8-a836-4f29bab98d46" and bundle.release == ""
    assert list(bundle.projects.all()) == [project]
    files = {(f.kind, str(f.debug_id)) for f in BundleFile.objects.all()}
    assert files == {
        ("minified_source", "ff50dd0c-bc24-5377-b8a1-8c09ad037ae2"),
        ("source_map", "ff50dd0c-bc24-5377-b8a1-8c09ad037ae2"),
    }
    assert blob_store().get(bundle.checksum) == data
    assert not UploadChunk.objects.exists()  # used up by the bundle; its bytes are the bundle's
    # Uploading the same bundle again finds it: nothing is stored twice.
    checksum = bundle.checksum
    again = client.post(
        ASSEMBLE,
        {"checksum": checksum, "chunks": [checksum], "projects": ["web"]},
        content_type="application/json",
    )
    assert again.json()["state"] == "ok" and ArtifactBundle.objects.count() == 1


def test_a_release_bound_bundle_keeps_release_and_dist(uploader):
    _, client = uploader
    data = (FIXTURES / "release-bundle.zip").read_bytes()
    assert upload(client, data, version="shop@2.0", dist="web1")["state"] == "ok"
    bundle = ArtifactBundle.objects.get()
    assert (bundle.release, bundle.dist) == ("shop@2.0", "web1")
    assert {f.url for f in BundleFile.objects.all()} == {
        "~/static/js/app.min.js",
        "~/static/js/app.min.js.map",
    }


def test_a_broken_bundle_ends_in_error_with_the_reason(uploader):
    _, client = uploader
    result = upload(client, b"this is not a zip file")
    assert result["state"] == "error" and "manifest.json" in result["detail"]
    assert AssembleJob.objects.get().state == "error" and not ArtifactBundle.objects.exists()


def test_chunks_are_checked_against_their_names_and_caps(uploader, settings):
    _, client = uploader
    wrong = SimpleUploadedFile("0" * 40, gzip.compress(b"data"))
    response = client.post(CHUNKS, {"file_gzip": wrong})
    assert response.status_code == 400 and "checksum mismatch" in response.json()["error"]
    settings.SOURCEMAPS = {**settings.SOURCEMAPS, "CHUNK_BYTES": 1000}
    big = b"x" * 5000  # 5000 bytes inflate from a tiny gzip part: the cap is on what it inflates to
    part = SimpleUploadedFile(hashlib.sha1(big).hexdigest(), gzip.compress(big))
    response = client.post(CHUNKS, {"file_gzip": part})
    assert response.status_code == 400 and response.json() == {"error": "Chunk size too large"}
    assert not UploadChunk.objects.exists()


def test_the_organization_quota_refuses_more_bytes(uploader, settings):
    _, client = uploader
    settings.SOURCEMAPS = {**settings.SOURCEMAPS, "ORG_QUOTA_BYTES": 100}
    data = b"y" * 200
    part = SimpleUploadedFile(hashlib.sha1(data).hexdigest(), gzip.compress(data))
    response = client.post(CHUNKS, {"file_gzip": part})
    assert response.status_code == 400 and "storage for artifacts" in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"chunks": [], "projects": ["web"]}, "'checksum' is a required property"),
        ({"checksum": "x", "chunks": [], "projects": ["web"]}, "checksum must be"),
        ({"checksum": "a" * 40, "chunks": [], "projects": ["nope"]}, "One or more projects are invalid"),
        (
            {"checksum": "a" * 40, "chunks": [], "projects": ["web"], "dist": "d"},
            "release together with a dist",
        ),
        ({"checksum": "a" * 40, "chunks": [], "projects": ["web"], "extra": 1}, "Additional properties"),
    ],
)
def test_assemble_requests_are_validated(uploader, body, error):
    _, client = uploader
    response = client.post(ASSEMBLE, body, content_type="application/json")
    assert response.status_code == 400 and error in response.json()["error"]


def test_a_poll_for_an_unknown_bundle_is_not_found(uploader):
    _, client = uploader
    body = {"checksum": "a" * 40, "chunks": [], "projects": ["web"]}
    assert client.post(ASSEMBLE, body, content_type="application/json").json() == {
        "state": "not_found",
        "missingChunks": [],
    }


def test_access_needs_membership_and_a_release_scope(make_project, client):
    project, _ = make_project(platform="javascript")
    other, _ = make_project(org="other", slug="site")
    member = user_with_membership(project)
    stranger = user_with_membership(other, username="stranger")
    _, reader = ApiToken.issue(member, scopes=["project:read", "event:read"])
    _, outsider = ApiToken.issue(stranger, scopes=["project:releases"])
    _, ci = ApiToken.issue(member, scopes=["org:ci"])
    assert client.get(CHUNKS).status_code == 401
    assert client.get(CHUNKS, HTTP_AUTHORIZATION=f"Bearer {reader}").status_code == 403
    assert client.get(CHUNKS, HTTP_AUTHORIZATION=f"Bearer {outsider}").status_code == 404
    assert client.get(CHUNKS, HTTP_AUTHORIZATION=f"Bearer {ci}").status_code == 200


def test_retention_deletes_unused_bundles_and_their_bytes(uploader):
    _, client = uploader
    data = (FIXTURES / "debug-id-bundle.zip").read_bytes()
    upload(client, data)
    bundle = ArtifactBundle.objects.get()
    assert cleanup_artifact_bundles.run() == 0
    ArtifactBundle.objects.update(last_used=timezone.now() - timedelta(days=91))
    assert cleanup_artifact_bundles.run() > 0
    assert not ArtifactBundle.objects.exists() and not BundleFile.objects.exists()
    assert blob_store().get(bundle.checksum) is None


def test_the_database_store_holds_bundles_for_installations_of_several_machines(uploader, settings):
    settings.SOURCEMAPS = {**settings.SOURCEMAPS, "BLOB_STORE": "sourcemaps.storage.DatabaseBlobStore"}
    blob_store.cache_clear()
    _, client = uploader
    data = (FIXTURES / "debug-id-bundle.zip").read_bytes()
    assert upload(client, data)["state"] == "ok"
    checksum = ArtifactBundle.objects.get().checksum
    assert blob_store().get(checksum) == data
    assert not (Path(settings.DATA_DIR) / "artifacts").exists()
    ArtifactBundle.objects.update(last_used=timezone.now() - timedelta(days=91))
    cleanup_artifact_bundles.run()
    assert blob_store().get(checksum) is None


def test_the_same_bundle_uploaded_for_another_project_serves_both(uploader, make_project):
    project, client = uploader
    other, _ = make_project(slug="admin-ui", platform="javascript")
    data = (FIXTURES / "debug-id-bundle.zip").read_bytes()
    upload(client, data)
    checksum = hashlib.sha1(data).hexdigest()
    body = {"checksum": checksum, "chunks": [checksum], "projects": ["admin-ui"]}
    assert client.post(ASSEMBLE, body, content_type="application/json").json()["state"] == "ok"
    assert set(ArtifactBundle.objects.get().projects.all()) == {project, other}


def test_polling_costs_the_same_few_queries_whatever_the_bundle_size(uploader, django_assert_max_num_queries):
    _, client = uploader
    data = (FIXTURES / "debug-id-bundle.zip").read_bytes()
    upload(client, data)
    checksum = hashlib.sha1(data).hexdigest()
    body = {"checksum": checksum, "chunks": [checksum], "projects": ["web"]}
    # token, organization, membership, projects, bundle, its projects (add)
    with django_assert_max_num_queries(8):
        assert client.post(ASSEMBLE, body, content_type="application/json").json()["state"] == "ok"
