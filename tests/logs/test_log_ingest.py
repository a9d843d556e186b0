"""The `log` envelope item from the real SDK captures: endpoint → buffer → worker → log store."""

import json

import pytest

from tests.conftest import FIXTURES, load_request, post_envelope, wire_body
from tests.test_ingest_endpoint import _headers
from usage.models import Outcome

from .conftest import all_records

pytestmark = pytest.mark.django_db

PYTHON_LOGS = FIXTURES / "sentry.python-2.75.0" / "structured_logs.2.json"
NODE_LOGS = FIXTURES / "sentry.javascript.node-11.12.0" / "structured_logs.2.json"


def _post_fixture(client, project, path):
    request = load_request(path)
    url = f"/api/{project.id}/envelope/" + (f"?{request['query']}" if request["query"] else "")
    return client.post(url, data=wire_body(request), content_type="", **_headers(request))


def _log_envelope(records, item_count=None) -> bytes:
    payload = json.dumps({"version": 2, "items": records}).encode()
    header = {"type": "log", "item_count": item_count or len(records)}
    return b"\n".join([b"{}", json.dumps(header).encode(), payload]) + b"\n"


def test_python_sdk_records_are_stored_with_typed_attributes(client, fixture_project, drain):
    project, _ = fixture_project
    assert _post_fixture(client, project, PYTHON_LOGS).status_code == 200
    drain()
    records = {r.body: r for r in all_records([project.id])}
    order = records["Order 123 placed by alice"]
    assert (order.level, order.severity_number) == ("info", 9)
    assert order.trace_id == "7e8ccfe1ff7f4ca6857d5820b8fa5645" and order.span_id == "b0f5d4cab79def0c"
    assert order.attributes["sentry.message.template"] == "Order {order_id} placed by {user}"
    assert order.attributes["sentry.message.parameter.order_id"] == 123
    assert order.attributes["sentry.release"] == "checkout@1.4.2"
    payment = records["Payment declined"]
    assert payment.attributes["amount"] == 9.99 and isinstance(payment.attributes["amount"], float)
    assert payment.attributes["final"] is False
    assert payment.attributes["retry"] == 2 and type(payment.attributes["retry"]) is int
    assert records["Skipped 4 malformed rows"].attributes["logger.name"] == "importer"


def test_node_sdk_records_keep_positional_parameters(client, fixture_project, drain):
    project, _ = fixture_project
    assert _post_fixture(client, project, NODE_LOGS).status_code == 200
    drain()
    records = {r.body: r for r in all_records([project.id])}
    order = records["Order 123 placed by alice"]
    assert order.attributes["sentry.message.template"] == "Order %s placed by %s"
    assert order.attributes["sentry.message.parameter.0"] == 123
    assert order.attributes["sentry.message.parameter.1"] == "alice"
    assert order.span_id == "" and records["Inventory low for A-1"].level == "warn"


def test_redelivered_envelope_stores_and_counts_each_record_once(client, fixture_project, clean_buffer):
    from ingest.tasks import process_payloads

    project, _ = fixture_project
    _post_fixture(client, project, NODE_LOGS)
    entries = clean_buffer.take("w", 10)
    process_payloads([e.payload for e in entries])
    process_payloads([e.payload for e in entries])  # a worker died before acknowledging
    assert len(all_records([project.id])) == 3
    accepted = Outcome.objects.get(project_id=project.id, category="log_item", outcome="accepted")
    assert accepted.quantity == 3
    assert Outcome.objects.get(project_id=project.id, category="log_byte", outcome="accepted").quantity > 300
    assert not Outcome.objects.filter(project_id=project.id, category="error").exclude(quantity=0).exists()


def test_malformed_records_get_a_400_naming_them_and_the_valid_ones_are_kept(client, fixture_project, drain):
    project, _ = fixture_project
    good = {
        "timestamp": 1795521226.9,
        "level": "info",
        "body": "kept",
        "attributes": {"n": {"value": "x", "type": "integer"}},
    }
    body = _log_envelope(
        [
            good,
            "not a record",
            {"timestamp": 1795521226.9, "level": "info"},
            dict(good, body="also kept", level="bogus"),
        ]
    )
    response = post_envelope(client, project.id, body)
    assert response.status_code == 400
    causes = response.json()["causes"]
    assert causes == [
        "log item: record 2: not a JSON object",
        "log item: record 3: body missing or not a string",
    ]
    drain()
    records = {r.body: r for r in all_records([project.id])}
    assert set(records) == {"kept", "also kept"}
    assert records["kept"].attributes == {"n": "x"}  # kept under its own type when not an integer
    assert records["also kept"].level == "info"


def test_a_log_item_without_records_list_is_a_400(client, fixture_project):
    project, _ = fixture_project
    body = b'{}\n{"type":"log"}\n{"items": 3}\n'
    response = post_envelope(client, project.id, body)
    assert response.status_code == 400
    assert "expected an object with an `items` list" in response.json()["causes"][0]


def test_secrets_are_scrubbed_from_body_template_parameters_and_attributes(client, fixture_project, drain):
    project, _ = fixture_project
    record = {
        "timestamp": 1795521226.9,
        "level": "error",
        "body": "login failed with Authorization: Bearer abc.def.ghi for card 4111111111111111",
        "attributes": {
            "sentry.message.template": {"value": "login failed password=hunter2 {user}", "type": "string"},
            "sentry.message.parameter.password": {"value": "hunter2", "type": "string"},
            "api_key": {"value": "sk_live_123", "type": "string"},
            "db.url": {"value": "postgres://app:s3cr3t@db/shop", "type": "string"},
            "plain": {"value": "visible", "type": "string"},
        },
    }
    post_envelope(client, project.id, _log_envelope([record]))
    drain()
    stored = all_records([project.id])[0]
    text = json.dumps([stored.body, stored.attributes])
    for secret in ("abc.def.ghi", "4111111111111111", "hunter2", "sk_live_123", "s3cr3t"):
        assert secret not in text
    assert stored.attributes["plain"] == "visible" and stored.attributes["api_key"] == "[Filtered]"


def test_log_items_are_limited_apart_from_errors(client, fixture_project, drain):
    from projects.models import ProjectKey

    project, key = fixture_project
    ProjectKey.objects.filter(pk=key.pk).update(rate_limit_per_minute=5)
    records = [{"timestamp": 1795521226.9, "level": "info", "body": f"r{i}"} for i in range(10)]
    limited = post_envelope(client, project.id, _log_envelope(records))
    assert limited.status_code == 429
    assert "log_item" in limited["X-Sentry-Rate-Limits"]
    event = b'{}\n{"type":"event"}\n{"message":"still here"}\n'
    assert post_envelope(client, project.id, event).status_code == 200


@pytest.mark.parametrize(
    "payload, status",
    [
        (b'{"items": [' + b'{"a":' * 600 + b"1" + b"}" * 600 + b"]}", 400),  # deeper than JSON parsers go
        (
            json.dumps(
                {
                    "items": [
                        {
                            "body": "x",
                            "attributes": {f"k{i}": {"value": i, "type": "integer"} for i in range(5000)},
                        }
                    ]
                }
            ).encode(),
            200,
        ),
        (
            json.dumps(
                {"items": [{"body": "x" * 100_000, "attributes": {"k" * 500: "v", "nul\x00": "a\x00b"}}]}
            ).encode(),
            200,
        ),
        (
            json.dumps(
                {"items": [{"body": "r", "timestamp": 1e300, "trace_id": ["x"], "level": {"a": 1}}] * 1500}
            ).encode(),
            400,
        ),
        (
            json.dumps(
                {"items": [{"body": "r", "attributes": {"deep": {"value": [[[[1]]]], "type": "array"}}}]}
            ).encode(),
            200,
        ),
    ],
    ids=["deep-json", "5000-attributes", "huge-body-long-key-nul", "1500-records-bad-values", "nested-array"],
)
def test_hostile_log_items_are_answered_and_bounded(client, fixture_project, drain, payload, status):
    project, _ = fixture_project
    body = b'{}\n{"type":"log"}\n' + payload + b"\n"
    assert post_envelope(client, project.id, body).status_code == status
    drain()
    for record in all_records([project.id]):
        assert len(record.body) <= 16 * 1024 and len(record.attributes) <= 256
        assert "\x00" not in record.body and all("\x00" not in k for k in record.attributes)
