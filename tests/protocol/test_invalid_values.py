"""Values of the wrong type are dropped and recorded like Relay does, never the whole event.

Each dropped value appears in ``errors`` (``{"type": "invalid_data", "name": <path>, "value": <it>}``)
and in ``_meta`` at its path (``{"": {"err": ["invalid_data"], "val": <it>}}``); the rest of the
event comes out exactly as if the bad value had not been sent.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.protocol.meta import restore_error_values
from ingest.protocol.normalize import normalize_event
from ingest.protocol.scrub import FILTERED, scrub_event

from .shape import assert_normalized
from .test_properties import HEAVY, JSON, PROFILE, SHAPED_EVENTS, TOP_LEVEL_KEYS

NOW = 1795520700.0
EVENT_ID = "a" * 32
BASE: dict[str, Any] = {
    "event_id": EVENT_ID,
    "timestamp": NOW - 60,
    "level": "warning",
    "platform": "python",
    "logger": "shop",
    "release": "1.0",
    "environment": "staging",
    "message": "order failed",
    "user": {"id": "42", "email": "a@example.com", "ip_address": "192.0.2.1", "data": {"plan": "pro"}},
    "tags": [["region", "eu"], ["tier", "gold"]],
    "extra": {"cart": 3},
    "contexts": {"os": {"name": "Linux"}, "runtime": {"name": "CPython", "version": "3.11"}},
    "request": {"url": "https://shop.example/cart", "method": "POST", "headers": [["Accept", "*/*"]]},
    "breadcrumbs": {
        "values": [
            {"timestamp": NOW - 61, "type": "http", "level": "info", "message": "GET /", "data": {"a": 1}}
        ]
    },
    "exception": {
        "values": [
            {
                "type": "ValueError",
                "value": "bad",
                "module": "shop.orders",
                "thread_id": 1,
                "mechanism": {"type": "generic", "handled": False},
                "stacktrace": {
                    "frames": [{"filename": "a.py", "function": "f", "lineno": 3, "in_app": True, "vars": {}}]
                },
            }
        ]
    },
    "threads": {"values": [{"id": 1, "name": "main", "crashed": True}]},
    "fingerprint": ["{{ default }}", "shop"],
    "sdk": {"name": "sentry.python", "version": "2.0"},
    "modules": {"django": "5.2"},
}

# (path in the raw event, a wrong value for it). The error name is the path, as Relay names it.
WRONG_VALUES = [
    ("user", "bob"),
    ("user", ["bob"]),
    ("level", "verbose"),
    ("level", {"x": 1}),
    ("level", 99),
    ("tags", "x"),
    ("breadcrumbs", "x"),
    ("extra", []),
    ("contexts", "x"),
    ("request", 5),
    ("sdk", 1),
    ("modules", []),
    ("fingerprint", "x"),
    ("exception", "boom"),
    ("threads", 5),
    ("timestamp", [1]),
    ("timestamp", "yesterday"),
    ("release", {"a": 1}),
    ("logger", [1]),
    ("environment", [1]),
    ("platform", 5),
    ("type", 5),
    ("event_id", 123),
    ("event_id", "not-a-uuid"),
    ("user.id", {"a": 1}),
    ("user.email", 5),
    ("user.ip_address", 5),
    ("user.data", "x"),
    ("request.url", 5),
    ("request.method", []),
    ("request.headers", "x"),
    ("request.env", "x"),
    ("request.headers.0", ["Accept", {"x": 1}]),
    ("contexts.os", "linux"),
    ("tags.1", ["tier", {"x": 1}]),
    ("fingerprint.1", {}),
    ("breadcrumbs.values.0", "x"),
    ("breadcrumbs.values.0.level", "verbose"),
    ("breadcrumbs.values.0.timestamp", "yesterday"),
    ("breadcrumbs.values.0.type", 3),
    ("breadcrumbs.values.0.data", "x"),
    ("exception.values.0", 7),
    ("exception.values.0.module", 5),
    ("exception.values.0.thread_id", {}),
    ("exception.values.0.mechanism", "x"),
    ("exception.values.0.mechanism.handled", "yes"),
    ("exception.values.0.stacktrace.frames.0.lineno", "x"),
    ("exception.values.0.stacktrace.frames.0.in_app", "yes"),
    ("exception.values.0.stacktrace.frames.0.function", 5),
    ("exception.values.0.stacktrace.frames.0.vars", 5),
    ("threads.values.0.crashed", "x"),
    ("threads.values.0.name", 5),
]


def _normalize(raw: Any) -> dict:
    return normalize_event(raw, event_id=None, received=NOW, client_ip="203.0.113.9")


def _container(event: Any, path: str) -> tuple[Any, Any]:
    *parents, last = path.split(".")
    node = event
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node, int(last) if isinstance(node, list) else last


def _with(path: str, value: Any) -> dict:
    event = copy.deepcopy(BASE)
    node, key = _container(event, path)
    node[key] = value
    return event


def _without(path: str) -> dict:
    event = copy.deepcopy(BASE)
    node, key = _container(event, path)
    if isinstance(node, list) or key in node:
        del node[key]
    return event


def _meta_leaf(meta: dict, path: str) -> Any:
    for key in path.split("."):
        meta = meta[key]
    return meta[""]


@pytest.mark.parametrize("path, value", WRONG_VALUES, ids=[f"{p}={v!r}" for p, v in WRONG_VALUES])
def test_a_wrong_value_is_dropped_and_recorded_and_the_rest_is_intact(path: str, value: Any) -> None:
    event = _normalize(_with(path, value))
    assert_normalized(event)
    assert event.pop("errors") == [{"type": "invalid_data", "name": path, "value": value}]
    assert event.pop("_meta") == _meta_at(path, {"err": ["invalid_data"], "val": value})
    # Exactly what the event gives without the bad value (defaults included, e.g. level "error").
    expected = _normalize(_without(path))
    assert_normalized(expected)
    assert "errors" not in expected and "_meta" not in expected
    if path == "event_id":  # a new random id stands in for the invalid one
        del event["event_id"], expected["event_id"]
    assert event == expected


def _meta_at(path: str, leaf: dict) -> dict:
    meta: dict = {"": leaf}
    for key in reversed(path.split(".")):
        meta = {key: meta}
    return meta


def test_an_exception_without_type_or_value_is_removed_as_a_missing_attribute() -> None:
    event = _normalize({"exception": {"values": [{"module": "shop"}, {"type": "KeyError"}]}})
    assert event["exception"] == {"values": [{"type": "KeyError"}]}
    expected = {"type": "missing_attribute", "name": "exception.values.0", "attribute": "type or value"}
    assert event["errors"] == [{**expected, "value": {"module": "shop"}}]
    leaf = {"err": [["missing_attribute", {"attribute": "type or value"}]], "val": {"module": "shop"}}
    assert event["_meta"] == {"exception": {"values": {"0": {"": leaf}}}}


def test_a_big_invalid_value_is_recorded_without_its_value() -> None:
    # Like Relay, only values under 500 bytes are kept beside the error.
    event = _normalize(_with("user", "x" * 600))
    assert event["errors"] == [{"type": "invalid_data", "name": "user"}]
    assert event["_meta"] == {"user": {"": {"err": ["invalid_data"]}}}
    assert "user" not in event


def test_a_context_name_with_a_dot_keeps_its_meta_path() -> None:
    event = _normalize({"contexts": {"my.app": "x"}})
    assert event["errors"] == [{"type": "invalid_data", "name": "contexts.my.app", "value": "x"}]
    assert event["_meta"] == {"contexts": {"my.app": {"": {"err": ["invalid_data"], "val": "x"}}}}


def test_the_sdks_own_meta_is_merged_not_overwritten() -> None:
    sdk_meta = {"user": {"": {"rem": [["@ip", "x"]]}}, "extra": {"k": {"": {"len": 9000}}}}
    raw = {**_with("user.email", 5), "_meta": copy.deepcopy(sdk_meta)}
    event = _normalize(raw)
    assert raw["_meta"] == sdk_meta, "the raw event's _meta must not be changed"
    assert event["_meta"] == {
        "user": {"": {"rem": [["@ip", "x"]]}, "email": {"": {"err": ["invalid_data"], "val": 5}}},
        "extra": {"k": {"": {"len": 9000}}},
    }


def test_scrubbing_keeps_the_error_meta_and_filters_secrets_in_invalid_values() -> None:
    raw = {
        "user": "bob",
        "extra": {"password": "hunter2"},
        "request": {"headers": "Authorization: Bearer abc.def.ghi"},
        "contexts": {"password": "s3cret-value"},
    }
    event = scrub_event(_normalize(raw))
    restore_error_values(event)
    text = orjson.dumps(event).decode()
    assert "abc.def.ghi" not in text and "s3cret-value" not in text and "hunter2" not in text
    meta = event["_meta"]
    # The scrubber's own entry and the normalizer's sit side by side.
    assert meta["extra"]["password"][""]["rem"]
    assert meta["user"][""] == {"err": ["invalid_data"], "val": "bob"}
    assert meta["contexts"]["password"][""] == {"err": ["invalid_data"], "val": FILTERED}
    headers_val = meta["request"]["headers"][""]["val"]
    assert headers_val.startswith("Authorization: ") and FILTERED in headers_val


# --- properties ----------------------------------------------------------------------------------

OBJECT_FIELDS = [
    "user", "request", "contexts", "extra", "sdk", "modules", "exception", "breadcrumbs", "threads",
    "tags", "fingerprint", "stacktrace",
]  # fmt: skip
SCALARS = st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False) | st.text(max_size=20)


def _check_recorded(raw: dict, event: dict) -> None:
    """Every error found here has its _meta leaf, holding the same original value."""
    assert_normalized(event)
    orjson.dumps(event)
    sent = raw.get("errors")
    client = sum(isinstance(e, dict) for e in sent) if isinstance(sent, list) else 0
    for error in event.get("errors", [])[client:]:
        name = error["name"]
        if "" in name.split(".") or name.startswith("contexts."):
            continue  # no meta path for an empty key; context names may hold dots (tested above)
        leaf = _meta_leaf(event["_meta"], name)
        assert error["type"] in [e if isinstance(e, str) else e[0] for e in leaf["err"]]
        if "value" in error and leaf.get("val") is not None:
            assert any(e.get("value") == leaf["val"] for e in event["errors"] if e.get("name") == name)


@HEAVY
@given(SHAPED_EVENTS)
def test_any_wrong_types_at_any_depth_are_recorded_in_errors_and_meta(raw: dict) -> None:
    before = copy.deepcopy(raw)
    _check_recorded(raw, _normalize(raw))
    assert raw == before, "the input must not be changed"


@PROFILE
@given(st.dictionaries(st.sampled_from(TOP_LEVEL_KEYS), JSON, max_size=8))
def test_any_json_object_normalizes_and_its_drops_are_recorded(raw: dict) -> None:
    before = copy.deepcopy(raw)
    _check_recorded(raw, _normalize(raw))
    assert raw == before, "the input must not be changed"


@PROFILE
@given(st.sampled_from(OBJECT_FIELDS), SCALARS)
def test_a_scalar_where_an_object_belongs_is_removed_with_its_value_recorded(field: str, value: Any) -> None:
    event = _normalize({"message": "kept", field: value})
    assert field not in event and event["logentry"]["message"] == "kept"
    assert event["errors"] == [{"type": "invalid_data", "name": field, "value": value}]
    assert event["_meta"] == {field: {"": {"err": ["invalid_data"], "val": value}}}
