"""normalize_event on real SDK payloads and on every legacy / lenient shape."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from ingest.protocol.envelope import parse_envelope
from ingest.protocol.normalize import normalize_event

from .sdk_fixtures import CAPTURES
from .shape import assert_normalized

NOW = 1795520700.0  # 2026-11-24T11:45:00Z, just after the captures
EID = "9ec79c33ec9942ab8353589fcb2e04dc"


def _fixture_events() -> list[tuple[str, str | None, dict]]:
    found = []
    for capture in CAPTURES:
        env = parse_envelope(capture.envelope)
        for item in env.items:
            if item.type in ("event", "transaction", "feedback"):
                found.append(
                    (f"{capture.name}:{item.type}", env.headers.get("event_id"), orjson.loads(item.payload))
                )
    return found


FIXTURE_EVENTS = _fixture_events()
BY_NAME = {name: (event_id, payload) for name, event_id, payload in FIXTURE_EVENTS}


def norm(raw: Any, **kwargs: Any) -> dict:
    kwargs.setdefault("event_id", None)
    kwargs.setdefault("received", NOW)
    return normalize_event(raw, **kwargs)


def invalid_names(event: dict) -> list[str]:
    return [error["name"] for error in event.get("errors", []) if error.get("type") == "invalid_data"]


@pytest.mark.parametrize("name, event_id, raw", FIXTURE_EVENTS, ids=[n for n, _, _ in FIXTURE_EVENTS])
def test_fixture_events_normalize_cleanly(name: str, event_id: str | None, raw: dict) -> None:
    before = copy.deepcopy(raw)
    event = normalize_event(raw, event_id=event_id, received=NOW, client_ip="203.0.113.9")
    assert raw == before, "the input must not be mutated"
    assert_normalized(event)
    assert "errors" not in event, event.get("errors")
    assert event["event_id"] == (event_id or raw["event_id"]).replace("-", "")
    expected_ts = raw["timestamp"]
    if isinstance(expected_ts, str):
        expected_ts = datetime.fromisoformat(expected_ts).timestamp()
    assert event["timestamp"] == pytest.approx(expected_ts)
    if "exception" in raw:
        assert event["type"] == "error"
        assert len(event["exception"]["values"]) == len(raw["exception"]["values"])
    if isinstance(raw.get("tags"), dict):
        assert event["tags"] == [[k, str(v)] for k, v in raw["tags"].items()]
    if raw.get("type") in ("transaction", "feedback"):
        assert event["type"] == raw["type"]


def test_python_logging_message_keeps_template_and_formatted() -> None:
    _, raw = BY_NAME["sentry.python-2.75.0/logging_message:event"]
    event = norm(raw)
    assert event["logentry"] == {
        "message": "Payment failed for user %s",
        "formatted": "Payment failed for user 4711",
        "params": [4711],
    }
    assert event["logger"] == "payments"
    assert event["type"] == "default"


@pytest.mark.parametrize(
    "name",
    [
        "sentry.javascript.node-11.12.0/message_parameterized.1:event",
        "sentry.javascript.node-10.78.0/message_parameterized.2:event",
    ],
)
def test_node_parameterized_message_is_interpolated(name: str) -> None:
    _, raw = BY_NAME[name]
    assert "formatted" not in raw["logentry"]
    event = norm(raw)
    assert event["logentry"]["formatted"] == "Payment failed for user 4711"
    assert event["logentry"]["message"] == "Payment failed for user %s"


def test_node_11_synthetic_exception_keeps_value_without_type() -> None:
    _, raw = BY_NAME["sentry.javascript.node-11.12.0/message_parameterized.1:event"]
    exc = norm(raw)["exception"]["values"][0]
    assert "type" not in exc
    assert exc["value"] == "Payment failed for user 4711"
    assert exc["mechanism"] == {"type": "generic", "handled": True, "synthetic": True}


def test_python_capture_message_string_becomes_logentry() -> None:
    _, raw = BY_NAME["sentry.python-2.75.0/capture_message:event"]
    assert isinstance(raw["message"], str)
    event = norm(raw)
    assert event["logentry"] == {"message": raw["message"], "formatted": raw["message"]}
    assert "message" not in event


def test_breadcrumb_list_form_and_iso_timestamps() -> None:
    node = [e for n, _, e in FIXTURE_EVENTS if "node" in n and isinstance(e.get("breadcrumbs"), list)]
    python = [e for n, _, e in FIXTURE_EVENTS if "python" in n and isinstance(e.get("breadcrumbs"), dict)]
    assert node and python
    for raw in node + python:
        raw_crumbs = (
            raw["breadcrumbs"] if isinstance(raw["breadcrumbs"], list) else raw["breadcrumbs"]["values"]
        )
        if not raw_crumbs:
            assert "breadcrumbs" not in norm(raw)
            continue
        crumbs = norm(raw)["breadcrumbs"]["values"]
        assert len(crumbs) == len(raw_crumbs)
        assert all(type(crumb["timestamp"]) is float for crumb in crumbs)


# --- event id, timestamps, level, strings -------------------------------------------------


def test_event_id_precedence() -> None:
    assert norm({"event_id": "a" * 32}, event_id=EID)["event_id"] == EID
    assert norm({"event_id": "9EC79C33-EC99-42AB-8353-589FCB2E04DC"})["event_id"] == EID
    generated = norm({"event_id": "nope"})
    assert len(generated["event_id"]) == 32 and invalid_names(generated) == ["event_id"]
    assert norm({}, event_id="garbage")["event_id"] != "garbage"


@pytest.mark.parametrize(
    "value, expected",
    [
        (1795520626.775, 1795520626.775),
        (1795520626, 1795520626.0),
        ("1795520626.5", 1795520626.5),
        ("2026-11-24T11:43:43.728981Z", datetime(2026, 11, 24, 11, 43, 43, 728981, UTC).timestamp()),
        ("2026-11-24T11:43:43Z", datetime(2026, 11, 24, 11, 43, 43, tzinfo=UTC).timestamp()),
        ("2026-11-24T13:43:43+02:00", datetime(2026, 11, 24, 11, 43, 43, tzinfo=UTC).timestamp()),
        ("2026-11-24T11:43:43", datetime(2026, 11, 24, 11, 43, 43, tzinfo=UTC).timestamp()),
        ("2026-11-24 11:43:43.5", datetime(2026, 11, 24, 11, 43, 43, 500000, UTC).timestamp()),
    ],
)
def test_timestamp_forms(value: Any, expected: float) -> None:
    event = norm({"timestamp": value})
    assert event["timestamp"] == pytest.approx(expected)
    assert "errors" not in event


@pytest.mark.parametrize("value", ["yesterday", "", [1], {"t": 1}, True, -5, "1969-01-01T00:00:00Z", 1e300])
def test_invalid_timestamp_falls_back_to_received(value: Any) -> None:
    event = norm({"timestamp": value})
    assert event["timestamp"] == NOW
    assert event["errors"]


def test_future_timestamp_is_clamped_and_missing_one_is_received() -> None:
    assert norm({"timestamp": NOW + 3500})["timestamp"] == NOW + 3500
    event = norm({"timestamp": NOW + 7200})
    assert event["timestamp"] == NOW
    assert event["errors"][0]["type"] == "future_timestamp"
    assert norm({})["timestamp"] == NOW
    assert norm({"received": 1.0})["received"] == NOW


@pytest.mark.parametrize(
    "raw, expected",
    [
        ({}, "error"),
        ({"type": "transaction"}, "info"),
        ({"level": "WARN"}, "warning"),
        ({"level": "critical"}, "fatal"),
        ({"level": "log"}, "info"),
        ({"level": "debug"}, "debug"),
        ({"level": 30}, "warning"),
        ({"level": "verbose"}, "error"),
        ({"level": ["error"]}, "error"),
    ],
)
def test_levels(raw: dict, expected: str) -> None:
    assert norm(raw)["level"] == expected


def test_string_fields_are_trimmed_and_defaults_applied() -> None:
    event = norm(
        {"logger": "x" * 500, "release": 42, "dist": True, "environment": "e" * 100, "culprit": "c" * 201}
    )
    assert event["logger"] == "x" * 200
    assert event["release"] == "42"
    assert "dist" not in event and "dist" in invalid_names(event)
    assert event["environment"] == "e" * 64
    assert len(event["culprit"]) == 200
    empty = norm({"environment": "", "platform": ""})
    assert empty["environment"] == "production"
    assert empty["platform"] == "other"
    assert norm({}, platform_hint="python")["platform"] == "python"
    assert norm({"platform": "node"}, platform_hint="python")["platform"] == "node"


def test_server_set_keys_are_dropped_and_unknown_keys_kept() -> None:
    event = norm(
        {"project": 5, "grouping_config": {}, "ingest_path": [], "debug_meta": {"images": []}, "_meta": {}}
    )
    assert not {"project", "grouping_config", "ingest_path"} & event.keys()
    assert event["debug_meta"] == {"images": []} and event["_meta"] == {}


# --- tags, contexts, user, request, fingerprint --------------------------------------------


def test_tags_forms() -> None:
    assert norm({"tags": {"a": "b", "n": 1, "f": 1.5, "t": True, "x": False}})["tags"] == [
        ["a", "b"],
        ["n", "1"],
        ["f", "1.5"],
        ["t", "true"],
        ["x", "false"],
    ]
    event = norm({"tags": [["a", "b"], ["bad"], "c=d", ["k", None], [1, 2], ["k", {"x": 1}], ["", "v"]]})
    assert event["tags"] == [["a", "b"], ["1", "2"]]
    assert invalid_names(event) == ["tags.1", "tags.2", "tags.3", "tags.5", "tags.6"]
    assert norm({"tags": {"k" * 300: "v" * 300}})["tags"] == [["k" * 200, "v" * 200]]
    assert "tags" not in norm({"tags": "a:b"})


def test_contexts_get_their_type() -> None:
    event = norm(
        {"contexts": {"os": {"name": "Linux"}, "gpu": {"type": "gpu", "x": 1}, "bad": 5, "none": None}}
    )
    assert event["contexts"] == {"os": {"name": "Linux", "type": "os"}, "gpu": {"type": "gpu", "x": 1}}
    assert invalid_names(event) == ["contexts.bad"]


def test_user_ip_auto() -> None:
    user = {"id": 42, "ip_address": "{{auto}}"}
    assert norm({"user": user}, client_ip="198.51.100.7")["user"] == {
        "id": "42",
        "ip_address": "198.51.100.7",
    }
    assert norm({"user": user})["user"] == {"id": "42"}
    assert norm({"sentry.interfaces.User": {"email": "a@b.c"}})["user"] == {"email": "a@b.c"}


def test_request_headers_become_pairs() -> None:
    event = norm(
        {
            "request": {
                "url": "https://x/y",
                "headers": {"Host": "x", "X-Multi": ["a", "b"], "X-Num": 5},
                "cookies": "a=b; c=d",
                "query_string": {"q": "1"},
                "data": {"nested": {"x": [1]}},
                "env": "bad",
            }
        }
    )
    request = event["request"]
    assert request["headers"] == [["Host", "x"], ["X-Multi", "a"], ["X-Multi", "b"], ["X-Num", "5"]]
    assert request["cookies"] == "a=b; c=d"
    assert request["query_string"] == [["q", "1"]]
    assert request["data"] == {"nested": {"x": [1]}}
    assert "env" not in request
    pairs = norm(
        {"sentry.interfaces.Http": {"headers": [["A", "1"], ["B"], [3, "x"]], "cookies": {"s": "1"}}}
    )
    assert pairs["request"] == {"headers": [["A", "1"]], "cookies": [["s", "1"]]}


def test_fingerprint() -> None:
    assert norm({"fingerprint": ["{{ default }}", 1, 2.5, True, None]})["fingerprint"] == [
        "{{ default }}",
        "1",
        "2.5",
        "True",
    ]
    event = norm({"fingerprint": [{"x": 1}]})
    assert "fingerprint" not in event and invalid_names(event) == ["fingerprint.0"]
    assert "fingerprint" not in norm({"fingerprint": "abc"})
    assert "fingerprint" not in norm({"fingerprint": []})


def test_bags_must_be_objects() -> None:
    event = norm({"extra": [1], "modules": "x", "sdk": {"name": "s"}, "contexts": []})
    assert "extra" not in event and "modules" not in event and "contexts" not in event
    assert event["sdk"] == {"name": "s"}
    assert sorted(invalid_names(event)) == ["contexts", "extra", "modules"]


# --- exceptions, stack traces, threads ----------------------------------------------------


FRAME = {"function": "f", "filename": "a.py", "lineno": 3, "in_app": True}


@pytest.mark.parametrize(
    "raw",
    [
        {"exception": {"values": [{"type": "E", "value": "v"}]}},
        {"exception": [{"type": "E", "value": "v"}]},
        {"exception": {"type": "E", "value": "v"}},
        {"sentry.interfaces.Exception": {"values": [{"type": "E", "value": "v"}]}},
    ],
)
def test_exception_forms(raw: dict) -> None:
    event = norm(raw)
    assert event["exception"] == {"values": [{"type": "E", "value": "v"}]}
    assert event["type"] == "error"


def test_exception_value_coercion_and_frame_repairs() -> None:
    frames = [
        FRAME,
        "not a frame",
        {
            "function": "g",
            "lineno": "12",
            "colno": -1,
            "in_app": "yes",
            "vars": ["a", 1],
            "pre_context": [1, None],
        },
        {"function": "h", "lineno": 7.0, "instruction_addr": 4096, "vars": {"x": "1"}, "post_context": ["x"]},
    ]
    raw = {
        "exception": {
            "values": [
                {
                    "type": "E",
                    "value": {"code": 5},
                    "stacktrace": {"frames": frames},
                    "mechanism": {"handled": "no"},
                },
                {"type": None, "value": None},
                {"value": 42, "thread_id": [1], "mechanism": "bad"},
                "junk",
            ]
        }
    }
    event = norm(raw)
    first, second = event["exception"]["values"]
    assert first["value"] == '{"code":5}'
    assert first["mechanism"] == {"type": "generic"}
    assert first["stacktrace"]["frames"] == [
        FRAME,
        {"function": "g", "vars": {"0": "a", "1": 1}, "pre_context": ["1", ""]},
        {
            "function": "h",
            "lineno": 7,
            "instruction_addr": "0x1000",
            "vars": {"x": "1"},
            "post_context": ["x"],
        },
    ]
    assert second == {"value": "42"}
    base = "exception.values.0.stacktrace.frames"
    assert invalid_names(event) == [
        "exception.values.0.mechanism.handled",
        f"{base}.1",
        f"{base}.2.lineno",
        f"{base}.2.colno",
        f"{base}.2.in_app",
        "exception.values.2.mechanism",
        "exception.values.2.thread_id",
        "exception.values.3",
    ]
    assert_normalized(event)


def test_exception_group_ids_and_empty_exception_removed() -> None:
    raw = {
        "exception": [{"type": "G", "mechanism": {"type": "chained", "exception_id": 1.0, "parent_id": "0"}}]
    }
    mechanism = norm(raw)["exception"]["values"][0]["mechanism"]
    assert mechanism == {"type": "chained", "exception_id": 1}
    event = norm({"exception": {"values": [{}, {"stacktrace": {"frames": []}}]}, "message": "m"})
    assert "exception" not in event and event["type"] == "default"


def test_threads_and_top_level_stacktrace() -> None:
    raw = {
        "threads": [{"id": 1, "crashed": True, "stacktrace": {"frames": [FRAME, 3]}}, {"id": [1]}, None],
        "sentry.interfaces.Stacktrace": {"frames": [{"function": "main", "lineno": None}]},
    }
    event = norm(raw)
    assert event["threads"] == {"values": [{"id": 1, "crashed": True, "stacktrace": {"frames": [FRAME]}}, {}]}
    assert event["stacktrace"] == {"frames": [{"function": "main"}]}
    assert event["type"] == "default"


def test_deep_recursion_fixture_keeps_all_frames() -> None:
    _, raw = BY_NAME["sentry.python-2.75.0/recursion_error_deep:event"]
    frames = norm(raw)["exception"]["values"][-1]["stacktrace"]["frames"]
    assert len(frames) == len(raw["exception"]["values"][-1]["stacktrace"]["frames"]) > 900


# --- breadcrumbs ---------------------------------------------------------------------------


def test_breadcrumbs_newest_100_in_order() -> None:
    crumbs = [{"timestamp": NOW - 1000 + i, "message": str(i)} for i in range(150)]
    values = norm({"breadcrumbs": crumbs})["breadcrumbs"]["values"]
    assert [c["message"] for c in values] == [str(i) for i in range(50, 150)]
    assert values[0] == {"timestamp": NOW - 950, "message": "50", "type": "default", "level": "info"}


def test_breadcrumb_repairs() -> None:
    raw = {
        "timestamp": NOW - 5,
        "breadcrumbs": {
            "values": [
                {"message": 5, "level": "warn", "category": ["x"], "data": "d", "type": ""},
                {"timestamp": "2026-11-24T11:43:43Z", "type": "http", "data": {"url": "/"}},
                "bad",
            ]
        },
    }
    event = norm(raw)
    first, second = event["breadcrumbs"]["values"]
    assert first == {
        "message": "5",
        "level": "warning",
        "category": '["x"]',
        "timestamp": NOW - 5,
        "type": "default",
    }
    assert second["type"] == "http" and second["data"] == {"url": "/"}
    assert invalid_names(event) == ["breadcrumbs.values.0.data", "breadcrumbs.values.2"]
    assert "breadcrumbs" not in norm({"breadcrumbs": {"values": None}})


# --- message / logentry ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ({"message": "plain"}, {"message": "plain", "formatted": "plain"}),
        (
            {"message": {"message": "a %s", "params": ["b"]}},
            {"message": "a %s", "formatted": "a b", "params": ["b"]},
        ),
        ({"logentry": {"formatted": "only"}}, {"message": "only", "formatted": "only"}),
        (
            {"logentry": {"message": "%(user)s paid %(n)d", "params": {"user": "ann", "n": 3}}},
            {"message": "%(user)s paid %(n)d", "formatted": "ann paid 3", "params": {"user": "ann", "n": 3}},
        ),
        (
            {"logentry": {"message": "%s and %s", "params": ["one"]}},
            {"message": "%s and %s", "formatted": "%s and %s", "params": ["one"]},
        ),
        (
            {"logentry": {"message": "%d items", "params": ["many"]}},
            {"message": "%d items", "formatted": "%d items", "params": ["many"]},
        ),
        (
            {"logentry": {"message": "%999999999s", "params": ["x"]}},
            {"message": "%999999999s", "formatted": "%999999999s", "params": ["x"]},
        ),
        (
            {"logentry": {"message": "%*s", "params": [100000000, "x"]}},
            {"message": "%*s", "formatted": "%*s", "params": [100000000, "x"]},
        ),
        (
            {"logentry": {"message": "100%% of %s", "params": [7]}},
            {"message": "100%% of %s", "formatted": "100% of 7", "params": [7]},
        ),
        (
            {"logentry": {"message": "x %s", "params": 5}},
            {"message": "x %s", "formatted": "x 5", "params": [5]},
        ),
        ({"logentry": {"message": 12}}, {"message": "12", "formatted": "12"}),
        ({"sentry.interfaces.Message": {"message": "legacy"}}, {"message": "legacy", "formatted": "legacy"}),
        (
            {"logentry": "bad-type-but-string"},
            {"message": "bad-type-but-string", "formatted": "bad-type-but-string"},
        ),
        ({"logentry": 5, "message": "fallback"}, {"message": "fallback", "formatted": "fallback"}),
        ({"logentry": {"message": "a"}, "message": "ignored"}, {"message": "a", "formatted": "a"}),
    ],
)
def test_logentry_forms(raw: dict, expected: dict) -> None:
    event = norm(raw)
    assert event["logentry"] == expected
    assert "message" not in event


def test_logentry_is_trimmed_and_empty_dropped() -> None:
    event = norm({"logentry": {"message": "%s", "params": ["x" * 10000]}})
    assert len(event["logentry"]["formatted"]) == 8192
    assert event["logentry"]["message"] == "%s"
    assert "logentry" not in norm({"logentry": {}})
    assert "logentry" not in norm({"message": ""})


# --- robustness ----------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [None, [], "str", 5, True])
def test_non_object_event(raw: Any) -> None:
    event = norm(raw)
    assert_normalized(event)
    assert invalid_names(event) == ["event"]


def test_too_deep_opaque_values_are_trimmed_to_stay_serializable() -> None:
    deep: Any = "leaf"
    for _ in range(900):
        deep = [deep]
    event = norm({"extra": {"deep": deep}, "contexts": {"x": {"deep": deep}}, "errors": [{"deep": deep}]})
    orjson.dumps(event)
    assert {"extra", "contexts", "errors"} <= set(invalid_names(event))


def test_client_errors_are_kept_and_ours_appended() -> None:
    event = norm({"errors": [{"type": "client"}, "junk"], "level": 5})
    assert event["errors"] == [
        {"type": "client"},
        {"type": "invalid_data", "name": "errors.1", "value": "junk"},
        {"type": "invalid_data", "name": "level", "value": 5},
    ]
    # _meta records only the values dropped here, not the SDK's own errors.
    assert event["_meta"] == {
        "errors": {"1": {"": {"err": ["invalid_data"], "val": "junk"}}},
        "level": {"": {"err": ["invalid_data"], "val": 5}},
    }
