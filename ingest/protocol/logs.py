"""Structured log records of the `log` envelope item (protocol §10). Pure, no Django.

A `log` item is a container `{"version": 2, "items": [record, ...]}`; each record has a timestamp,
level, body, trace and span ids and typed attributes `{"key": {"value": v, "type": t}}`. Like
Relay, a record with a bad value is kept with the value dropped or defaulted; only a record that
is not an object or has no text body cannot be stored, and is reported (the others beside it are
kept).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import orjson

from logs.query.attributes import AttributeValue, attribute_type

# Sentry's levels and the OpenTelemetry severity number each starts at (logs.mdx).
LEVEL_SEVERITY = {"trace": 1, "debug": 5, "info": 9, "warn": 13, "error": 17, "fatal": 21}
LEVEL_ALIASES = {"warning": "warn", "critical": "fatal", "log": "info", "err": "error"}
TEMPLATE_KEY = "sentry.message.template"
PARAMETER_PREFIX = "sentry.message.parameter."

MAX_RECORDS_PER_ITEM = 1000
MAX_BODY_CHARS = 16 * 1024
MAX_ATTRIBUTES = 256
MAX_KEY_CHARS = 200
MAX_STRING_CHARS = 4096
# Records dated further ahead of their arrival than this are placed at their arrival (clock skew).
MAX_FUTURE_SECONDS = 3600.0


@dataclass
class LogRecord:
    timestamp: float
    level: str
    severity_number: int
    body: str
    trace_id: str  # 32 lowercase hex, or ""
    span_id: str  # 16 lowercase hex, or ""
    # Typed by their Python type: str = string, int = integer, float = double, bool = boolean.
    attributes: dict[str, AttributeValue] = field(default_factory=dict)

    @property
    def template(self) -> str:
        value = self.attributes.get(TEMPLATE_KEY)
        return value if isinstance(value, str) else ""


def container_records(payload: Any) -> tuple[list[Any], list[str]]:
    """The raw records of a `log` item's parsed payload, and why the item is unusable if it is."""
    items = payload.get("items") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        return [], ["log item: expected an object with an `items` list"]
    if len(items) > MAX_RECORDS_PER_ITEM:
        return items[:MAX_RECORDS_PER_ITEM], [f"log item: more than {MAX_RECORDS_PER_ITEM} records"]
    return items, []


def record_problem(raw: Any) -> str | None:
    """Why a raw record cannot be stored at all, or None when it can (perhaps with values dropped)."""
    if not isinstance(raw, dict):
        return "not a JSON object"
    if not isinstance(raw.get("body"), str):
        return "body missing or not a string"
    return None


def typed_record(raw: dict[str, Any], received: float) -> dict[str, Any]:
    """The record with every value checked, as `{body, attributes: {k: {value, type}}, ...}`: the
    shape the scrubber reads. Invalid values are dropped or defaulted, never fatal."""
    level, severity = _level(raw.get("level"), raw.get("severity_number"))
    return {
        "timestamp": _timestamp(raw.get("timestamp"), received),
        "level": level,
        "severity_number": severity,
        "body": _clip(raw["body"], MAX_BODY_CHARS),
        "trace_id": _hex_id(raw.get("trace_id"), 32),
        "span_id": _hex_id(raw.get("span_id"), 16),
        "attributes": _attributes(raw.get("attributes")),
    }


def flatten(typed: dict[str, Any]) -> LogRecord:
    """A typed (and scrubbed) record as stored: attribute values carry their type as Python type.
    Values were coerced by typed_record; the scrubber only puts strings in their place."""
    attributes: dict[str, AttributeValue] = {}
    for key, attr in typed["attributes"].items():
        value = attr.get("value") if type(attr) is dict else None
        if isinstance(value, str | int | float):  # bool is an int
            attributes[key] = value
    return LogRecord(
        timestamp=typed["timestamp"],
        level=typed["level"],
        severity_number=typed["severity_number"],
        body=str(typed["body"]),
        trace_id=typed["trace_id"],
        span_id=typed["span_id"],
        attributes=attributes,
    )


def _level(level: Any, severity: Any) -> tuple[str, int]:
    name = LEVEL_ALIASES.get(str(level).lower(), str(level).lower()) if isinstance(level, str) else ""
    number = severity if isinstance(severity, int) and not isinstance(severity, bool) else 0
    if name in LEVEL_SEVERITY:
        return name, number if 1 <= number <= 24 else LEVEL_SEVERITY[name]
    if 1 <= number <= 24:
        # No usable level: the OpenTelemetry ranges (1-4 trace, 5-8 debug, ...) name it.
        return [n for n, start in LEVEL_SEVERITY.items() if start <= number][-1], number
    return "info", LEVEL_SEVERITY["info"]


def _timestamp(value: Any, received: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return received
    if value <= 0 or value > received + MAX_FUTURE_SECONDS:
        return received
    return float(value)


def _hex_id(value: Any, length: int) -> str:
    if not isinstance(value, str):
        return ""
    value = value.replace("-", "").lower()
    return value if len(value) == length and not value.strip("0123456789abcdef") else ""


def _clip(value: str, limit: int) -> str:
    # PostgreSQL text cannot hold NUL; browsers and C libraries can send it.
    if len(value) > limit:
        value = value[:limit]
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def _attributes(raw: Any) -> dict[str, dict[str, Any]]:
    if type(raw) is not dict:
        return {}
    kept: dict[str, dict[str, Any]] = {}
    for key, attr in list(raw.items())[:MAX_ATTRIBUTES]:
        if type(key) is not str or not key or len(key) > MAX_KEY_CHARS:
            continue
        if type(attr) is dict and "value" in attr:
            value = _coerce(attr["value"], attr.get("type"))
        else:
            value = _coerce(attr, None)  # a bare value, as older SDKs and OTLP bridges send
        if value is not None:
            kept[_clip(key, MAX_KEY_CHARS)] = {"value": value, "type": attribute_type(value)}
    return kept


def _coerce(value: Any, declared: Any) -> AttributeValue | None:
    """The value in the type it declares (OTLP JSON sends 64-bit integers as strings); a value that
    does not fit its declared type keeps its own JSON type; arrays and objects become JSON text."""
    if isinstance(value, str):
        if declared == "integer":
            try:
                return int(value)
            except ValueError:
                pass
        return _clip(value, MAX_STRING_CHARS)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value) if declared == "double" else value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None:
        return None
    try:
        return _clip(orjson.dumps(value).decode(), MAX_STRING_CHARS)
    except (TypeError, orjson.JSONEncodeError):
        return None
