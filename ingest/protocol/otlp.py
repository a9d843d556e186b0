"""OpenTelemetry logs over OTLP/HTTP (protobuf or JSON), turned into the records of a Sentry `log`
item, so they travel the same path (quotas, buffer, worker, log store) as SDK logs. Pure, no Django.

Sentry's endpoint: `POST /api/<project_id>/integration/otlp/v1/logs` with
`x-sentry-auth: sentry sentry_key=<public key>`. A record keeps its own attributes; its resource's
(service.name, host.name, ...) are added under their own names where the record has none, and the
instrumentation scope as `instrumentation.scope.name` / `.version`.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson

from .errors import BadRequest

PROTOBUF_TYPES = ("application/x-protobuf", "application/protobuf")
# OTLP severity numbers, named as Sentry names levels.
_SEVERITY_LEVELS = ((21, "fatal"), (17, "error"), (13, "warn"), (9, "info"), (5, "debug"), (1, "trace"))


def otlp_log_records(body: bytes, content_type: str) -> list[dict[str, Any]]:
    """Records in the shape of the `log` item's `items`; BadRequest when the body cannot be read."""
    if content_type.split(";")[0].strip().lower() in PROTOBUF_TYPES:
        request = _from_protobuf(body)
    else:
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"OTLP logs: invalid JSON: {exc}") from exc
    if not isinstance(request, dict):
        raise BadRequest("OTLP logs: expected an ExportLogsServiceRequest object")
    records: list[dict[str, Any]] = []
    for resource_logs in _list(request, "resourceLogs", "resource_logs"):
        resource = _attributes(_list(_dict(resource_logs, "resource"), "attributes"))
        for scope_logs in _list(resource_logs, "scopeLogs", "scope_logs"):
            scope = _dict(scope_logs, "scope")
            extra = dict(resource)
            if isinstance(scope.get("name"), str) and scope["name"]:
                extra["instrumentation.scope.name"] = {"value": scope["name"], "type": "string"}
            if isinstance(scope.get("version"), str) and scope["version"]:
                extra["instrumentation.scope.version"] = {"value": scope["version"], "type": "string"}
            records += [_record(r, extra) for r in _list(scope_logs, "logRecords", "log_records")]
    return records


def _from_protobuf(body: bytes) -> dict[str, Any]:
    from google.protobuf.json_format import MessageToDict
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    try:
        message = ExportLogsServiceRequest.FromString(body)
    except (DecodeError, RecursionError) as exc:
        raise BadRequest("OTLP logs: invalid protobuf body") from exc
    # MessageToDict writes bytes (trace and span ids) as base64; _hex reads both spellings.
    result: dict[str, Any] = MessageToDict(message, use_integers_for_enums=True)
    return result


def _record(raw: Any, extra: dict[str, dict[str, Any]]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        return {}
    nanos = _int(raw.get("timeUnixNano")) or _int(raw.get("observedTimeUnixNano"))
    severity = _int(raw.get("severityNumber"))
    text = raw.get("severityText")
    attributes = {**extra, **_attributes(_list(raw, "attributes"))}
    return {
        "timestamp": nanos / 1e9 if nanos else None,
        "level": _level(text, severity),
        "severity_number": severity or None,
        "body": _text(_dict(raw, "body")),
        "trace_id": _hex(raw.get("traceId"), 16),
        "span_id": _hex(raw.get("spanId"), 8),
        "attributes": attributes,
    }


def _level(text: Any, severity: int) -> str | None:
    if isinstance(text, str) and text:
        return text.lower()
    return next((name for start, name in _SEVERITY_LEVELS if severity >= start), None)


def _attributes(pairs: list[Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        if isinstance(pair, dict) and isinstance(pair.get("key"), str):
            typed = _typed(_dict(pair, "value"))
            if typed is not None:
                out[pair["key"]] = typed
    return out


def _typed(value: dict[str, Any]) -> dict[str, Any] | None:
    """An OTLP AnyValue as a Sentry typed attribute; arrays, maps and bytes become JSON text."""
    if "stringValue" in value:
        return {"value": str(value["stringValue"]), "type": "string"}
    if "boolValue" in value:
        return {"value": bool(value["boolValue"]), "type": "boolean"}
    if "intValue" in value:  # int64: JSON carries it as a string
        number = _int(value["intValue"])
        return {"value": number, "type": "integer"} if number is not None else None
    if "doubleValue" in value and isinstance(value["doubleValue"], int | float | str):
        try:
            return {"value": float(value["doubleValue"]), "type": "double"}
        except ValueError:
            return None
    if value:
        return {"value": orjson.dumps(_plain(value)).decode(), "type": "string"}
    return None


def _plain(value: Any) -> Any:
    """An AnyValue (or a list of them) as plain JSON, for arrays and maps kept as text."""
    if not isinstance(value, dict):
        return value
    if "arrayValue" in value:
        return [_plain(v) for v in _list(_dict(value, "arrayValue"), "values")]
    if "kvlistValue" in value:
        pairs = _list(_dict(value, "kvlistValue"), "values")
        return {p.get("key"): _plain(_dict(p, "value")) for p in pairs if isinstance(p, dict)}
    for key in ("stringValue", "boolValue", "intValue", "doubleValue", "bytesValue"):
        if key in value:
            return value[key]
    return None


def _text(body: dict[str, Any]) -> str | None:
    if "stringValue" in body:
        return str(body["stringValue"])
    return orjson.dumps(_plain(body)).decode() if body else None


def _hex(value: Any, size: int) -> str | None:
    """OTLP JSON spells ids in hex; protobuf's JSON mapping in base64."""
    if not isinstance(value, str) or not value:
        return None
    if len(value) == size * 2:
        return value.lower()
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        return None
    return raw.hex() if len(raw) == size else None


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return 0
    return 0


def _list(obj: Any, *names: str) -> list[Any]:
    for name in names:
        value = obj.get(name) if isinstance(obj, dict) else None
        if isinstance(value, list):
            return value
    return []


def _dict(obj: Any, name: str) -> dict[str, Any]:
    value = obj.get(name) if isinstance(obj, dict) else None
    return value if isinstance(value, dict) else {}
