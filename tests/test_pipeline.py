"""Endpoint → buffer → worker → database, with the real captured SDK requests."""

import json
import uuid

import pytest

from ingest.buffer import get_buffer
from ingest.tasks import process_payloads
from issues.models import Attachment, Event, Issue
from issues.payload import decode_event_data
from tests.conftest import load_request, make_event_envelope, post_envelope, sdk_requests, wire_body
from tests.test_ingest_endpoint import _headers

pytestmark = pytest.mark.django_db


def _post(client, project, request: dict):
    url = f"/api/{project.id}/envelope/" + (f"?{request['query']}" if request["query"] else "")
    return client.post(url, data=wire_body(request), content_type="", **_headers(request))


def test_every_captured_event_becomes_a_stored_event(client, fixture_project, drain):
    project, _ = fixture_project
    expected = set()
    for path in sdk_requests():
        request = load_request(path)
        assert _post(client, project, request).status_code == 200
        if "event" in request["envelope_item_types"]:
            header_line = path.with_suffix(".envelope").read_bytes().split(b"\n", 1)[0]
            expected.add(json.loads(header_line)["event_id"])
    drain()
    assert set(Event.objects.values_list("event_id", flat=True)) == expected
    assert Issue.objects.count() >= 10
    assert sum(Issue.objects.values_list("times_seen", flat=True)) == len(expected)
    assert get_buffer().depth() == 0


def test_python_event_is_stored_normalized_with_title_culprit_and_tags(client, fixture_project, drain):
    project, _ = fixture_project
    _post(client, project, load_request(_fixture("sentry.python-2.75.0/scope_enrichment.json")))
    drain()
    issue = Issue.objects.get()
    assert issue.title.startswith("TypeError: unsupported operand")
    assert issue.culprit == "__main__ in scope_enrichment"
    assert (issue.first_release, issue.user_count) == ("checkout@1.4.2", 1)
    tags = set(issue.tags.values_list("key", "value"))
    assert {("region", "eu-west-1"), ("environment", "production"), ("release", "checkout@1.4.2")} <= tags
    data = decode_event_data(Event.objects.get().data)
    assert isinstance(data["timestamp"], float) and data["_grouping"]["hashes"]


def test_node_attachment_is_stored_with_its_event(client, fixture_project, drain):
    project, _ = fixture_project
    _post(client, project, load_request(_fixture("sentry.javascript.node-11.12.0/attachment.2.json")))
    drain()
    event_id = Event.objects.get().event_id
    assert Attachment.objects.filter(event_id=event_id).count() == 2


def test_same_error_many_times_is_one_issue_with_exact_count(client, fixture_project, drain):
    project, _ = fixture_project
    event = json.loads(_event_payload("sentry.python-2.75.0/unhandled_exception.envelope"))
    for _ in range(250):
        body = make_event_envelope(event, uuid.uuid4().hex)
        assert post_envelope(client, project.id, body).status_code == 200
    drain()
    issue = Issue.objects.get()
    assert issue.times_seen == 250 and Event.objects.count() == 250


def test_a_worker_dying_before_ack_loses_nothing_and_counts_once(
    client, fixture_project, clean_buffer, settings
):
    project, _ = fixture_project
    for _ in range(3):
        post_envelope(client, project.id, make_event_envelope({"message": "x"}, uuid.uuid4().hex))
    taken = clean_buffer.take("worker-that-dies", 10)
    process_payloads([e.payload for e in taken[:2]])  # stored, then killed before acknowledging
    clean_buffer.reclaim_idle_ms = 0
    if hasattr(clean_buffer, "reclaim_idle"):
        clean_buffer.reclaim_idle = 0
    again = clean_buffer.take("survivor", 10)
    assert len(again) == 3
    process_payloads([e.payload for e in again])
    clean_buffer.ack([e.id for e in again])
    assert Issue.objects.get().times_seen == 3 and clean_buffer.depth() == 0


def test_a_poisoned_envelope_does_not_block_the_others(client, fixture_project, clean_buffer, drain):
    project, _ = fixture_project
    clean_buffer.put(b'{"p": 1, "k": 1, "r": 1.0, "enc": "gzip"}\nnot gzip at all')
    clean_buffer.put(b"no header line")
    post_envelope(client, project.id, make_event_envelope({"message": "fine"}, uuid.uuid4().hex))
    drain()
    assert Event.objects.count() == 1 and clean_buffer.depth() == 0


def test_secrets_are_scrubbed_before_storage(client, fixture_project, drain):
    project, _ = fixture_project
    event = {
        "message": "login with Bearer abc.def.ghi",
        "extra": {"password": "hunter2-secret"},
        "request": {"url": "https://shop.example/", "headers": {"Authorization": "Basic dXNlcjpwdw=="}},
    }
    post_envelope(client, project.id, make_event_envelope(event, uuid.uuid4().hex))
    drain()
    raw = json.dumps(decode_event_data(Event.objects.get().data))
    assert "hunter2-secret" not in raw and "abc.def.ghi" not in raw and "dXNlcjpwdw==" not in raw
    assert "[Filtered]" in raw


def _fixture(name: str):
    from tests.conftest import FIXTURES

    return FIXTURES / name


def _event_payload(name: str) -> bytes:
    lines = _fixture(name).read_bytes().split(b"\n")
    for index, line in enumerate(lines):
        if line.startswith(b"{") and json.loads(line).get("type") == "event":
            return lines[index + 1]
    raise AssertionError("no event item")


def test_issue_page_explains_the_grouping_of_a_processed_event(client, fixture_project, drain):
    from tests.factories import user_with_membership

    project, _ = fixture_project
    _post(client, project, load_request(_fixture("sentry.python-2.75.0/scope_enrichment.json")))
    drain()
    issue = Issue.objects.get()
    stored = decode_event_data(Event.objects.get().data)["_grouping"]
    assert set(stored) == {"config_id", "hashes"}  # the tree is recomputed, not stored
    client.force_login(user_with_membership(project))
    html = client.get(f"/organizations/acme/projects/web/issues/{issue.id}/").content.decode()
    assert "Why these events are grouped" in html and stored["hashes"][0] in html
    assert "ignored because stack trace takes precedence" in html  # the exception value's hint
    assert "rules changed since" not in html
