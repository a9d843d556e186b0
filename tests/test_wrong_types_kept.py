"""Events with values of the wrong type are answered 200 and stored, on both SDK endpoints; the
dropped values show in the event API's ``errors`` and ``_meta`` and, in words, on the issue page."""

import base64
import json
import uuid
import zlib

import pytest

from accounts.models import ApiToken
from issues.models import Event, Issue
from tests.conftest import FIXTURE_KEY, make_event_envelope, post_envelope
from tests.factories import user_with_membership

pytestmark = pytest.mark.django_db

WRONG = {
    "message": "checkout failed",
    "user": "<script>alert(1)</script>",
    "level": 40,
    "tags": "x",
    "breadcrumbs": "x",
    "contexts": {"os": "linux"},
    "exception": {
        "values": [{"type": "ValueError", "value": "bad", "stacktrace": {"frames": [{"lineno": "x"}]}}]
    },
}
EXPECTED_ERRORS = [
    {"type": "invalid_data", "message": "invalid value", "data": {"name": name, "value": value}}
    for name, value in [
        ("exception.values.0.stacktrace.frames.0.lineno", "x"),
        ("breadcrumbs", "x"),
        ("tags", "x"),
        ("user", "<script>alert(1)</script>"),
        ("contexts.os", "linux"),
    ]
]


def _post_store(client, project_id: int, body: bytes, content_type: str):
    auth = f"Sentry sentry_key={FIXTURE_KEY}, sentry_version=7, sentry_client=test/1.0"
    return client.post(
        f"/api/{project_id}/store/", data=body, content_type=content_type, HTTP_X_SENTRY_AUTH=auth
    )


def _api(client, project) -> None:
    _, token = ApiToken.issue(user_with_membership(project, username="api"))
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"


@pytest.mark.parametrize("endpoint", ["envelope", "store", "store-base64-zlib"])
def test_wrong_types_are_stored_with_their_errors_in_the_api(client, fixture_project, drain, endpoint):
    project, _ = fixture_project
    event_id = uuid.uuid4().hex
    if endpoint == "envelope":
        response = post_envelope(client, project.id, make_event_envelope(WRONG, event_id))
    else:
        body = json.dumps({**WRONG, "event_id": event_id}).encode()
        if endpoint == "store-base64-zlib":
            body = base64.b64encode(zlib.compress(body))
        response = _post_store(client, project.id, body, "application/json")
    assert response.status_code == 200, response.content
    assert response.json() == {"id": event_id}
    drain()
    stored = Event.objects.get(event_id=event_id)
    assert stored.level == "error"  # 40 is Python logging's ERROR, a valid level
    _api(client, project)
    api_event = client.get(f"/api/0/issues/{stored.issue_id}/events/latest/").json()
    assert api_event["eventID"] == event_id and api_event["message"] == "checkout failed"
    assert api_event["errors"] == EXPECTED_ERRORS
    assert api_event["_meta"]["user"] == {"": {"err": ["invalid_data"], "val": "<script>alert(1)</script>"}}
    assert api_event["_meta"]["contexts"]["os"] == {"": {"err": ["invalid_data"], "val": "linux"}}
    assert api_event["user"] is None and api_event["contexts"] == {}
    assert api_event["entries"][0]["data"]["values"][0]["type"] == "ValueError"


def test_the_issue_page_lists_the_problems_in_words_escaped(client, fixture_project, drain):
    project, _ = fixture_project
    post_envelope(client, project.id, make_event_envelope(WRONG, uuid.uuid4().hex))
    drain()
    client.force_login(user_with_membership(project))
    html = client.get(f"/organizations/acme/projects/web/issues/{Issue.objects.get().id}/").content.decode()
    assert "5 problems processing this event" in html
    assert "invalid value for user: &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;" in html
    assert "invalid value for exception.values.0.stacktrace.frames.0.lineno: &quot;x&quot;" in html
    assert "<script>alert(1)" not in html


@pytest.mark.parametrize("body", [b"[1, 2]", b'"just a string"', b"{not json", b"null"])
def test_what_is_not_a_json_object_is_still_refused_on_both_endpoints(
    client, fixture_project, clean_buffer, body
):
    project, _ = fixture_project
    store = _post_store(client, project.id, body, "application/json")
    envelope = post_envelope(client, project.id, b'{}\n{"type":"event"}\n' + body + b"\n")
    assert store.status_code == 400 and store.json()["detail"]
    assert envelope.status_code == 400 and "(event)" in envelope.json()["causes"][0]
    assert clean_buffer.depth() == 0
