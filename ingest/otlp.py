"""The OTLP/HTTP logs endpoint (`/api/<id>/integration/otlp/v1/logs`): OpenTelemetry exporters send
logs without a Sentry SDK. Its records become one `log` envelope item and from there take the SDK
path (authentication, quotas counted as `log_item`, the ingest buffer, the worker)."""

from __future__ import annotations

import orjson
from django.conf import settings

from .accept import Accepted, IngestRequest, accept_envelope, authenticate
from .protocol.auth import extract_auth
from .protocol.decompress import decompress
from .protocol.errors import BadRequest
from .protocol.logs import MAX_RECORDS_PER_ITEM
from .protocol.otlp import PROTOBUF_TYPES, otlp_log_records


def accept_otlp_logs(req: IngestRequest) -> Accepted:
    authenticate(extract_auth(req.headers, req.query), req.project_id)  # before any real work
    body = decompress(req.body, req.content_encoding, settings.INGEST["MAX_ENVELOPE_BYTES"])
    records = otlp_log_records(body, _content_type(req))
    if not records:
        return Accepted(event_id=None)
    items = []
    for start in range(0, len(records), MAX_RECORDS_PER_ITEM):
        chunk = records[start : start + MAX_RECORDS_PER_ITEM]
        header = {
            "type": "log",
            "item_count": len(chunk),
            "content_type": "application/vnd.sentry.items.log+json",
        }
        items += [orjson.dumps(header), orjson.dumps({"items": chunk})]
    envelope = b"\n".join([b"{}", *items]) + b"\n"
    headers = {k: v for k, v in req.headers.items() if k.lower() not in ("content-encoding", "content-type")}
    return accept_envelope(IngestRequest(req.project_id, headers, req.query, envelope, None, req.client_ip))


def _content_type(req: IngestRequest) -> str:
    value = next((v for k, v in req.headers.items() if k.lower() == "content-type"), "")
    if not value:
        raise BadRequest("OTLP logs: send Content-Type application/x-protobuf or application/json")
    return value


def otlp_answer_body(accepted: Accepted, content_type: str) -> tuple[bytes, str]:
    """ExportLogsServiceResponse: empty on success; `partialSuccess` names records not stored."""
    rejected = sum(1 for p in accepted.problems if ": record " in p)
    protobuf = content_type.split(";")[0].strip().lower() in PROTOBUF_TYPES
    if protobuf:
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse

        response = ExportLogsServiceResponse()
        if accepted.problems:
            response.partial_success.rejected_log_records = rejected
            response.partial_success.error_message = "; ".join(accepted.problems)[:1000]
        return response.SerializeToString(), "application/x-protobuf"
    data = {}
    if accepted.problems:
        data = {
            "partialSuccess": {
                "rejectedLogRecords": str(rejected),
                "errorMessage": "; ".join(accepted.problems)[:1000],
            }
        }
    return orjson.dumps(data), "application/json"
