"""Property tests: the protocol layer never crashes on hostile input."""

from __future__ import annotations

import os
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.protocol.envelope import Envelope, Item, parse_envelope, serialize_envelope, split_valid_items
from ingest.protocol.errors import ProtocolError
from ingest.protocol.normalize import normalize_event

from .sdk_fixtures import CAPTURES
from .shape import assert_normalized

# LT_HYPOTHESIS_EXAMPLES=5000 for a long local fuzzing run; the default keeps
# the whole tests/protocol run well under 20 s.
EXAMPLES = int(os.environ.get("LT_HYPOTHESIS_EXAMPLES", "200"))
PROFILE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Generating the big nested inputs costs more than checking them.
HEAVY = settings(PROFILE, max_examples=max(1, EXAMPLES // 2))
NOW = 1795520700.0

# What orjson.loads() can produce: 64-bit ints (bigger ones become floats), no NaN.
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["", "{{auto}}", "%s", "%(x)s %d", "error", "warn", "2026-11-24T11:43:43Z", "values"])
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=15,
)

TOP_LEVEL_KEYS = [
    "event_id", "timestamp", "start_timestamp", "received", "platform", "level", "logger", "transaction",
    "server_name", "release", "dist", "environment", "culprit", "tags", "extra", "contexts", "user", "request",
    "sdk", "exception", "breadcrumbs", "threads", "stacktrace", "fingerprint", "message", "logentry", "modules",
    "type", "errors", "debug_meta", "_meta", "project", "sentry.interfaces.Exception",
    "sentry.interfaces.Stacktrace", "sentry.interfaces.Http", "sentry.interfaces.User",
    "sentry.interfaces.Message",
]  # fmt: skip
FRAME_KEYS = [
    "filename", "abs_path", "module", "function", "raw_function", "package", "platform", "context_line",
    "lineno", "colno", "in_app", "stack_start", "instruction_addr", "symbol_addr", "image_addr",
    "pre_context", "post_context", "vars", "data",
]  # fmt: skip
EXCEPTION_KEYS = ["type", "value", "module", "thread_id", "mechanism", "stacktrace", "raw_stacktrace"]
MECHANISM_KEYS = [
    "type",
    "handled",
    "synthetic",
    "is_exception_group",
    "exception_id",
    "parent_id",
    "data",
    "meta",
]
CRUMB_KEYS = ["timestamp", "type", "category", "message", "level", "data"]
REQUEST_KEYS = ["url", "method", "headers", "cookies", "query_string", "data", "env"]
LOGENTRY_KEYS = ["message", "params", "formatted"]
THREAD_KEYS = ["id", "name", "crashed", "current", "main", "stacktrace"]


def objects(keys: list[str], values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict]:
    return st.dictionaries(st.sampled_from(keys), values, max_size=len(keys))


def wrapped(items: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The bare-list and ``{"values": [...]}`` forms of an interface."""
    as_list = st.lists(items, max_size=3)
    return as_list | st.builds(lambda v: {"values": v}, as_list) | JSON


FRAMES = objects(FRAME_KEYS, JSON | st.lists(SCALARS, max_size=3))
STACKTRACES = st.builds(lambda f: {"frames": f}, st.lists(FRAMES | JSON, max_size=4)) | JSON
EXCEPTIONS = objects(EXCEPTION_KEYS, JSON | STACKTRACES | objects(MECHANISM_KEYS, JSON))
SHAPED_FIELDS = {
    "exception": wrapped(EXCEPTIONS) | EXCEPTIONS,
    "threads": wrapped(objects(THREAD_KEYS, JSON | STACKTRACES)),
    "stacktrace": STACKTRACES,
    "breadcrumbs": wrapped(objects(CRUMB_KEYS, JSON)),
    "request": objects(REQUEST_KEYS, JSON | st.dictionaries(st.text(max_size=5), JSON, max_size=3)),
    "logentry": objects(LOGENTRY_KEYS, JSON) | JSON,
    "message": objects(LOGENTRY_KEYS, JSON) | JSON,
    "tags": st.lists(st.lists(SCALARS, max_size=3), max_size=4) | JSON,
    "contexts": st.dictionaries(
        st.text(max_size=5), JSON | st.dictionaries(st.text(max_size=5), JSON), max_size=3
    ),
    "user": objects(["id", "ip_address", "email", "data"], JSON),
}
SHAPED_EVENTS = st.fixed_dictionaries({}, optional=SHAPED_FIELDS) | st.fixed_dictionaries(
    {}, optional=dict.fromkeys(TOP_LEVEL_KEYS, JSON)
)


def check(raw: Any, **kwargs: Any) -> dict:
    event = normalize_event(raw, event_id=kwargs.pop("event_id", None), received=NOW, **kwargs)
    assert_normalized(event)
    return event


@PROFILE
@given(JSON)
def test_normalize_never_raises_on_any_json(raw: Any) -> None:
    check(raw)


@PROFILE
@given(
    st.sampled_from(TOP_LEVEL_KEYS), JSON, st.one_of(st.none(), st.text(max_size=40)), st.none() | st.text()
)
def test_normalize_never_raises_on_any_value_of_a_known_key(
    key: str, value: Any, event_id: str | None, client_ip: str | None
) -> None:
    check({key: value}, event_id=event_id, client_ip=client_ip, platform_hint=client_ip)


@HEAVY
@given(SHAPED_EVENTS)
def test_normalize_never_raises_on_nested_shapes(raw: dict) -> None:
    check(raw, client_ip="192.0.2.1")


@PROFILE
@given(
    st.integers(min_value=200, max_value=1000), st.sampled_from(["extra", "contexts", "tags", "exception"])
)
def test_normalize_output_serializes_even_for_deep_input(depth: int, key: str) -> None:
    deep: Any = {"leaf": 1}
    for _ in range(depth):
        deep = [deep]
    raw = {key: {"a": deep}, "user": {"data": deep}}
    orjson.dumps(check(raw))


# --- envelope parser -------------------------------------------------------------------------


@PROFILE
@given(st.binary(max_size=300))
def test_parse_envelope_only_raises_protocol_error_on_bytes(body: bytes) -> None:
    try:
        env = parse_envelope(body)
    except ProtocolError:
        return
    split_valid_items(env)


LINE_PARTS = st.sampled_from(
    [
        b"{}",
        b'{"type":"event"}',
        b'{"type":"attachment","length":3}',
        b'{"length":-1,"type":"x"}',
        b"\n",
        b"\r\n",
    ]
    + [b'{"type":"x","length":0}', b"abc", b"\xff", b"[", b'{"type":"event","length":1e3}', b"\n\n", b"{"]
)


@PROFILE
@given(st.lists(LINE_PARTS, max_size=12))
def test_parse_envelope_only_raises_protocol_error_on_frame_soup(parts: list[bytes]) -> None:
    try:
        parse_envelope(b"".join(parts))
    except ProtocolError:
        pass


@PROFILE
@given(st.sampled_from(CAPTURES), st.data())
def test_parse_envelope_survives_mutated_fixtures(capture: Any, data: st.DataObject) -> None:
    body = bytearray(capture.envelope)
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(body) - 1))
        body[position] = data.draw(st.sampled_from([0x0A, 0x7B, 0x7D, 0x22, 0x30, 0xFF, 0x20]))
    try:
        env = parse_envelope(bytes(body))
    except ProtocolError:
        return
    split_valid_items(env)


HEADER_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
ITEMS = st.builds(
    Item,
    st.builds(
        lambda t, extra: {**extra, "type": t},
        st.text(min_size=1, max_size=12),
        st.dictionaries(
            st.text(max_size=6).filter(lambda k: k not in ("type", "length")), HEADER_VALUES, max_size=3
        ),
    ),
    st.binary(max_size=64),
)


@HEAVY
@given(st.dictionaries(st.text(max_size=6), HEADER_VALUES, max_size=4), st.lists(ITEMS, max_size=5))
def test_serialize_parse_roundtrip(headers: dict, items: list[Item]) -> None:
    env = Envelope(headers, items)
    assert parse_envelope(serialize_envelope(env)) == env
