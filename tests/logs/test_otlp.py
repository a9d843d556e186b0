"""OTLP/HTTP logs: the pure conversion (protobuf and JSON) and the endpoint at Sentry's path."""

import gzip
import json

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs, SeverityNumber
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from ingest.protocol.errors import BadRequest
from ingest.protocol.otlp import otlp_log_records
from tests.conftest import FIXTURE_KEY

from .conftest import all_records

TRACE, SPAN = "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174"
NANOS = 1795521226_500_000_000


def _protobuf() -> bytes:
    record = LogRecord(
        time_unix_nano=NANOS, severity_number=SeverityNumber.SEVERITY_NUMBER_WARN, severity_text="WARN",
        body=AnyValue(string_value="Stock low for SKU-7"),
        trace_id=bytes.fromhex(TRACE), span_id=bytes.fromhex(SPAN),
        attributes=[
            KeyValue(key="sku", value=AnyValue(string_value="SKU-7")),
            KeyValue(key="remaining", value=AnyValue(int_value=3)),
            KeyValue(key="ratio", value=AnyValue(double_value=0.25)),
            KeyValue(key="urgent", value=AnyValue(bool_value=True)),
            KeyValue(key="service.name", value=AnyValue(string_value="record wins")),
        ],
    )  # fmt: skip
    resource = Resource(
        attributes=[
            KeyValue(key="service.name", value=AnyValue(string_value="stock")),
            KeyValue(key="host.name", value=AnyValue(string_value="web-1")),
        ]
    )
    scope = ScopeLogs(log_records=[record])
    scope.scope.name = "shop.stock"
    return ExportLogsServiceRequest(
        resource_logs=[ResourceLogs(resource=resource, scope_logs=[scope])]
    ).SerializeToString()


JSON_BODY = {
    "resourceLogs": [
        {
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "stock"}}]},
            "scopeLogs": [
                {
                    "scope": {"name": "shop.stock", "version": "1.0"},
                    "logRecords": [
                        {
                            "timeUnixNano": str(NANOS),
                            "severityNumber": 17,
                            "body": {"stringValue": "Payment declined"},
                            "traceId": TRACE,
                            "spanId": SPAN,
                            "attributes": [
                                {"key": "order.id", "value": {"intValue": "9007199254740993"}},
                                {
                                    "key": "tags",
                                    "value": {
                                        "arrayValue": {"values": [{"stringValue": "a"}, {"intValue": "2"}]}
                                    },
                                },
                            ],
                        }
                    ],
                }
            ],
        }
    ]
}


def test_protobuf_records_become_sentry_log_records():
    (record,) = otlp_log_records(_protobuf(), "application/x-protobuf")
    assert (
        record["timestamp"] == NANOS / 1e9 and record["level"] == "warn" and record["severity_number"] == 13
    )
    assert (record["trace_id"], record["span_id"], record["body"]) == (TRACE, SPAN, "Stock low for SKU-7")
    attributes = record["attributes"]
    assert attributes["remaining"] == {"value": 3, "type": "integer"}
    assert attributes["ratio"] == {"value": 0.25, "type": "double"}
    assert attributes["urgent"] == {"value": True, "type": "boolean"}
    assert (
        attributes["service.name"]["value"] == "record wins" and attributes["host.name"]["value"] == "web-1"
    )
    assert attributes["instrumentation.scope.name"]["value"] == "shop.stock"


def test_json_records_with_hex_ids_and_int64_as_text():
    (record,) = otlp_log_records(json.dumps(JSON_BODY).encode(), "application/json")
    assert record["level"] == "error" and record["trace_id"] == TRACE
    assert record["attributes"]["order.id"] == {"value": 9007199254740993, "type": "integer"}
    assert record["attributes"]["tags"] == {"value": '["a","2"]', "type": "string"}
    assert record["attributes"]["service.name"]["value"] == "stock"


@pytest.mark.parametrize(
    "body, kind",
    [
        (b"\xff\x00garbage", "application/x-protobuf"),
        (b"{nope", "application/json"),
        (b"[]", "application/json"),
    ],
)
def test_unreadable_bodies_are_bad_requests(body, kind):
    with pytest.raises(BadRequest):
        otlp_log_records(body, kind)


URL = "/api/{}/integration/otlp/v1/logs"
AUTH = {"HTTP_X_SENTRY_AUTH": f"sentry sentry_key={FIXTURE_KEY}"}


@pytest.mark.django_db(databases="__all__")
def test_protobuf_endpoint_stores_records(client, fixture_project, drain):
    project, _ = fixture_project
    response = client.post(URL.format(project.id), data=gzip.compress(_protobuf()), content_type="application/x-protobuf",
                           HTTP_CONTENT_ENCODING="gzip", **AUTH)  # fmt: skip
    assert response.status_code == 200 and response["Content-Type"] == "application/x-protobuf"
    assert not ExportLogsServiceResponse.FromString(response.content).HasField("partial_success")
    drain()
    (stored,) = all_records([project.id])
    assert (
        stored.body == "Stock low for SKU-7"
        and stored.trace_id == TRACE
        and stored.attributes["remaining"] == 3
    )


@pytest.mark.django_db(databases="__all__")
def test_json_endpoint_names_records_it_cannot_store(client, fixture_project, drain):
    project, _ = fixture_project
    body = json.loads(json.dumps(JSON_BODY))
    body["resourceLogs"][0]["scopeLogs"][0]["logRecords"].append({"timeUnixNano": str(NANOS)})  # no body
    response = client.post(
        URL.format(project.id) + "/", data=json.dumps(body), content_type="application/json", **AUTH
    )
    assert response.status_code == 200
    assert response.json()["partialSuccess"]["rejectedLogRecords"] == "1"
    drain()
    assert [r.body for r in all_records([project.id])] == ["Payment declined"]


@pytest.mark.django_db(databases="__all__")
def test_endpoint_needs_a_key_and_a_readable_body(client, fixture_project):
    project, _ = fixture_project
    assert client.post(URL.format(project.id), data=b"{}", content_type="application/json").status_code == 401
    bad = client.post(URL.format(project.id), data=b"\xff\x00", content_type="application/x-protobuf", **AUTH)
    assert bad.status_code == 400 and "protobuf" in bad.json()["detail"]
