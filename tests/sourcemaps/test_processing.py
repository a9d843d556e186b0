"""The worker maps a JavaScript event's frames through uploaded bundles before grouping and storing:
by debug ID, and by release + dist + URL for release-bound uploads."""

from __future__ import annotations

import copy
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import ApiToken
from issues.models import Event, Issue
from sourcemaps.lookup import clear_caches
from sourcemaps.process import resolve_source_maps
from tests.conftest import make_event_envelope, post_envelope
from tests.factories import user_with_membership
from tests.sourcemaps.test_upload import isolated_store, upload  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parents[1] / "fixtures" / "sourcemaps"
DEBUG_ID = "ff50dd0c-bc24-5377-b8a1-8c09ad037ae2"


@pytest.fixture(autouse=True)
def fresh_caches():
    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def js_project(fixture_project, client):
    project, _ = fixture_project
    user = user_with_membership(project)
    _, token = ApiToken.issue(user)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return project


def js_event(script: str, line: int, *, images: bool = True, **fields) -> dict:
    # Oldest first: onCheckoutClicked (i) calls submitOrder (r), which throws.
    frames = [
        {
            "abs_path": script,
            "filename": script,
            "function": "i",
            "lineno": line,
            "colno": 154,
            "in_app": True,
        },
        {
            "abs_path": script,
            "filename": script,
            "function": "r",
            "lineno": line,
            "colno": 82,
            "in_app": True,
        },
    ]
    return {
        "event_id": uuid.uuid4().hex,
        "platform": "javascript",
        "exception": {
            "values": [
                {
                    "type": "RangeError",
                    "value": "order total 120 exceeds the limit",
                    "stacktrace": {"frames": frames},
                }
            ]
        },
        "debug_meta": {
            "images": [{"type": "sourcemap", "code_file": script, "debug_id": DEBUG_ID}] if images else []
        },
        **fields,
    }


def _send(client, project, event: dict, drain) -> dict:
    assert post_envelope(client, project.id, make_event_envelope(event)).status_code == 200
    drain()
    return client.get(
        f"/api/0/issues/{Event.objects.get(event_id=event['event_id']).issue_id}/events/latest/"
    ).json()


def _frames(api_event: dict, key: str = "stacktrace") -> list[dict]:
    (entry,) = [e for e in api_event["entries"] if e["type"] == "exception"]
    return entry["data"]["values"][0][key]["frames"]


def test_a_debug_id_event_is_stored_with_original_frames(client, js_project, drain):
    upload(client, (FIXTURES / "debug-id-bundle.zip").read_bytes())
    stored = _send(client, js_project, js_event("http://shop.example/app.min.js", 3), drain)
    caller, thrower = _frames(stored)
    assert (thrower["filename"], thrower["lineNo"], thrower["colNo"], thrower["function"]) == (
        "/src/checkout.ts", 9, 3, "submitOrder"
    )  # fmt: skip
    assert thrower["absPath"] == "http://shop.example/src/checkout.ts"
    assert [9, "  throw new RangeError(`order total ${total} exceeds the limit`);"] in thrower["context"]
    assert thrower["data"]["resolved_with"] == "debug-id"
    assert (caller["function"], caller["lineNo"]) == ("onCheckoutClicked", 4)
    raw = _frames(stored, "rawStacktrace")
    assert [(f["function"], f["lineNo"], f["colNo"]) for f in raw] == [("i", 3, 154), ("r", 3, 82)]
    # Grouping and the culprit saw the original code.
    issue = Issue.objects.get()
    assert "submitOrder" in issue.culprit or "checkout" in issue.culprit, issue.culprit


def test_the_issue_page_shows_original_frames_and_toggles_to_minified(client, js_project, drain):
    upload(client, (FIXTURES / "debug-id-bundle.zip").read_bytes())
    event = js_event("http://shop.example/app.min.js", 3)
    event["exception"]["values"][0]["stacktrace"]["frames"].insert(
        0, {"abs_path": "http://shop.example/other.js", "function": "x", "lineno": 1, "colno": 2}
    )
    _send(client, js_project, event, drain)
    client.force_login(js_project.organization.members.get().user)
    issue = Issue.objects.get()
    url = f"/organizations/acme/projects/{js_project.slug}/issues/{issue.id}/"
    page = client.get(url).content.decode()
    assert "/src/checkout.ts" in page and "submitOrder" in page and "minified, as sent" in page
    assert "Not mapped: the event names no debug ID for this file" in page
    assert (
        "Source maps: 1 file not mapped" in page
        and "source map not applied for http://shop.example/other.js" in page
    )
    minified = client.get(url + "?frames=minified").content.decode()
    assert "/src/checkout.ts" not in minified.split("Stack frames:")[1].split("</section>")[0]
    assert "http://shop.example/app.min.js" in minified


def test_without_a_bundle_the_frames_stay_minified_and_say_why(client, js_project, drain):
    stored = _send(client, js_project, js_event("http://shop.example/app.min.js", 3), drain)
    frames = _frames(stored)
    assert [f["function"] for f in frames] == ["i", "r"]
    assert frames[0]["data"]["sourcemap_error"]["reason"] == "no_bundle"
    assert stored["errors"][0]["type"] == "js_no_source"
    assert DEBUG_ID in stored["errors"][0]["data"]["reason"]


def test_a_release_bound_upload_maps_frames_by_release_dist_and_url(client, js_project, drain):
    upload(client, (FIXTURES / "release-bundle.zip").read_bytes(), version="shop@2.0", dist="web1")
    script = "https://cdn.example/static/js/app.min.js"
    event = js_event(script, 1, images=False, release="shop@2.0", dist="web1")
    caller, thrower = _frames(_send(client, js_project, event, drain))
    # "../src/checkout.ts" in the map, relative to the map's URL /static/js/app.min.js.map
    assert thrower["absPath"] == "https://cdn.example/static/src/checkout.ts"
    assert (thrower["filename"], thrower["lineNo"], thrower["function"]) == (
        "/static/src/checkout.ts", 9, "submitOrder"
    )  # fmt: skip
    assert thrower["data"]["resolved_with"] == "release"
    # Another dist of the same release has no upload: not mapped, with the reason.
    other = js_event(script, 1, images=False, release="shop@2.0", dist="web2")
    frames = _frames(_send(client, js_project, other, drain))
    assert frames[1]["function"] == "r" and frames[1]["data"]["sourcemap_error"]["reason"] == "no_debug_id"


def test_a_cached_map_costs_no_query(client, js_project):
    upload(client, (FIXTURES / "debug-id-bundle.zip").read_bytes())
    assert resolve_source_maps(js_event("http://shop.example/app.min.js", 3), js_project.id)
    with CaptureQueriesContext(connection) as queries:
        assert resolve_source_maps(js_event("http://shop.example/app.min.js", 3), js_project.id)
    assert len(queries) == 0


def test_bundles_of_another_project_are_not_used(client, js_project, make_project):
    upload(client, (FIXTURES / "debug-id-bundle.zip").read_bytes())
    other, _ = make_project(slug="site", platform="javascript")
    event = js_event("http://shop.example/app.min.js", 3)
    assert resolve_source_maps(event, other.id) is False
    assert event["exception"]["values"][0]["stacktrace"]["frames"][1]["function"] == "r"


def test_projects_without_uploads_keep_events_as_sent(client, js_project):
    """Node apps that ship no source maps: no lookup per frame and no "not mapped" notes."""
    event = js_event("/srv/app/server.js", 3, images=False, release="api@1.0")
    before = copy.deepcopy(event)
    assert resolve_source_maps(event, js_project.id) is False
    assert event == before
