"""Assertions for the normalized event shape that downstream code relies on."""

from __future__ import annotations

from typing import Any

import orjson

LEVELS = {"fatal", "error", "warning", "info", "debug"}
LEGACY_KEYS = {
    "sentry.interfaces.Exception",
    "sentry.interfaces.Stacktrace",
    "sentry.interfaces.Http",
    "sentry.interfaces.User",
    "sentry.interfaces.Message",
    "message",
    "project",
    "grouping_config",
    "ingest_path",
}
_HEX = set("0123456789abcdef")
KEPT_TYPES = {"transaction", "feedback", "csp", "hpkp", "expectct", "expectstaple", "nel"}


def assert_normalized(event: dict[str, Any]) -> None:
    assert isinstance(event, dict)
    orjson.dumps(event)  # everything downstream stores it as JSON
    _assert_top_level(event)
    if "tags" in event:
        _assert_tags(event["tags"])
    if "exception" in event:
        values = event["exception"]["values"]
        assert isinstance(values, list) and values
        for exc in values:
            _assert_exception(exc)
    if "threads" in event:
        for thread in event["threads"]["values"]:
            assert isinstance(thread, dict)
            if "stacktrace" in thread:
                _assert_stacktrace(thread["stacktrace"])
    if "stacktrace" in event:
        _assert_stacktrace(event["stacktrace"])
    if "breadcrumbs" in event:
        _assert_breadcrumbs(event["breadcrumbs"])
    if "logentry" in event:
        _assert_logentry(event["logentry"])
    _assert_bags(event)


def _assert_top_level(event: dict[str, Any]) -> None:
    event_id = event["event_id"]
    assert isinstance(event_id, str) and len(event_id) == 32 and set(event_id) <= _HEX
    assert type(event["timestamp"]) is float
    assert type(event["received"]) is float
    assert isinstance(event["platform"], str) and event["platform"]
    assert event["level"] in LEVELS
    assert isinstance(event["environment"], str) and 0 < len(event["environment"]) <= 64
    if event["type"] not in KEPT_TYPES:
        assert event["type"] == ("error" if "exception" in event else "default")
    for key in ("logger", "transaction", "server_name", "release", "dist", "culprit"):
        if key in event:
            assert isinstance(event[key], str) and len(event[key]) <= 200
    assert not LEGACY_KEYS & event.keys()
    if "start_timestamp" in event:
        assert type(event["start_timestamp"]) is float
    if "errors" in event:
        assert all(isinstance(error, dict) for error in event["errors"])


def _assert_tags(tags: Any) -> None:
    assert isinstance(tags, list)
    for pair in tags:
        assert isinstance(pair, list) and len(pair) == 2
        key, value = pair
        assert isinstance(key, str) and 0 < len(key) <= 200
        assert isinstance(value, str) and 0 < len(value) <= 200


def _assert_exception(exc: Any) -> None:
    assert isinstance(exc, dict)
    assert exc.get("type") or exc.get("value") or "stacktrace" in exc
    for key in ("type", "value", "module"):
        if key in exc:
            assert isinstance(exc[key], str)
    if "mechanism" in exc:
        mechanism = exc["mechanism"]
        assert isinstance(mechanism, dict) and isinstance(mechanism["type"], str)
        for key in ("handled", "synthetic", "is_exception_group"):
            if key in mechanism:
                assert isinstance(mechanism[key], bool)
    for key in ("stacktrace", "raw_stacktrace"):
        if key in exc:
            _assert_stacktrace(exc[key])


def _assert_stacktrace(stacktrace: Any) -> None:
    assert isinstance(stacktrace, dict)
    frames = stacktrace["frames"]
    assert isinstance(frames, list) and frames
    for frame in frames:
        assert isinstance(frame, dict)
        for key in ("lineno", "colno"):
            if key in frame:
                assert type(frame[key]) is int and frame[key] >= 0
        for key in ("in_app", "stack_start"):
            if key in frame:
                assert type(frame[key]) is bool
        for key in ("filename", "abs_path", "function", "module", "context_line", "package"):
            if key in frame:
                assert isinstance(frame[key], str)
        for key in ("pre_context", "post_context"):
            if key in frame:
                assert all(isinstance(line, str) for line in frame[key])
        if "vars" in frame:
            assert isinstance(frame["vars"], dict)


def _assert_breadcrumbs(breadcrumbs: Any) -> None:
    values = breadcrumbs["values"]
    assert isinstance(values, list) and 0 < len(values) <= 100
    for crumb in values:
        assert isinstance(crumb, dict)
        assert type(crumb["timestamp"]) is float
        assert isinstance(crumb["type"], str) and crumb["type"]
        assert crumb["level"] in LEVELS
        if "data" in crumb:
            assert isinstance(crumb["data"], dict)


def _assert_logentry(logentry: Any) -> None:
    assert isinstance(logentry, dict)
    assert isinstance(logentry["message"], str) and len(logentry["message"]) <= 8192
    assert isinstance(logentry["formatted"], str) and len(logentry["formatted"]) <= 8192
    if "params" in logentry:
        assert isinstance(logentry["params"], list | dict)


def _assert_bags(event: dict[str, Any]) -> None:
    for key in ("extra", "modules", "sdk", "user", "request", "contexts"):
        if key in event:
            assert isinstance(event[key], dict)
    for name, context in event.get("contexts", {}).items():
        assert isinstance(context, dict) and isinstance(context["type"], str), name
    if "fingerprint" in event:
        assert event["fingerprint"] and all(isinstance(part, str) for part in event["fingerprint"])
    request = event.get("request", {})
    for key in ("url", "method"):
        if key in request:
            assert isinstance(request[key], str)
    for key in ("cookies", "query_string"):
        if key in request:
            assert isinstance(request[key], str | list)
    if "id" in event.get("user", {}):
        assert isinstance(event["user"]["id"], str)
    if "headers" in request:
        assert all(
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)
            for pair in request["headers"]
        )
    if "ip_address" in event.get("user", {}):
        assert isinstance(event["user"]["ip_address"], str)
        assert event["user"]["ip_address"] != "{{auto}}"
