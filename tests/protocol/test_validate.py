"""The cheap top-level type check run at the HTTP edge."""

from __future__ import annotations

import timeit
from typing import Any

import orjson
import pytest

from ingest.protocol.envelope import parse_envelope
from ingest.protocol.validate import check_event_types

from .sdk_fixtures import CAPTURES

EVENT_TYPES = ("event", "transaction", "feedback")
FIXTURE_EVENTS = [
    (capture.name, orjson.loads(item.payload))
    for capture in CAPTURES
    for item in parse_envelope(capture.envelope).items
    if item.type in EVENT_TYPES
]


@pytest.mark.parametrize("name, event", FIXTURE_EVENTS, ids=[name for name, _ in FIXTURE_EVENTS])
def test_fixture_events_pass(name: str, event: dict) -> None:
    assert check_event_types(event) == []


@pytest.mark.parametrize(
    "field, value, reason",
    [
        ("timestamp", [1], "event.timestamp: expected number or string, got list"),
        ("timestamp", True, "event.timestamp: expected number or string, got boolean"),
        ("event_id", 123, "event.event_id: expected string, got number"),
        ("level", {"x": 1}, "event.level: expected string, got object"),
        ("release", 1.5, "event.release: expected string, got number"),
        ("tags", "a=b", "event.tags: expected object or list, got string"),
        ("extra", [], "event.extra: expected object, got list"),
        ("contexts", "x", "event.contexts: expected object, got string"),
        ("exception", "boom", "event.exception: expected object or list, got string"),
        ("breadcrumbs", 5, "event.breadcrumbs: expected object or list, got number"),
        ("fingerprint", "x", "event.fingerprint: expected list, got string"),
        ("message", [], "event.message: expected string or object, got list"),
        ("logentry", "x", "event.logentry: expected object, got string"),
        ("modules", [], "event.modules: expected object, got list"),
        ("user", False, "event.user: expected object, got boolean"),
    ],
)
def test_wrong_types_are_reported(field: str, value: object, reason: str) -> None:
    assert check_event_types({field: value}) == [reason]


def test_accepted_shapes_and_nulls() -> None:
    event: dict[str, Any] = {
        "timestamp": "2026-11-24T11:43:43Z",
        "tags": [["a", "b"]],
        "exception": [{"type": "E"}],
        "breadcrumbs": [],
        "threads": {"values": []},
        "message": {"message": "x"},
        "level": None,
        "user": None,
        "unknown": [1, 2],
    }
    assert check_event_types(event) == []
    assert check_event_types({"timestamp": 1795520626}) == []
    assert check_event_types({}) == []


def test_several_reasons_in_field_order() -> None:
    assert check_event_types({"sdk": 1, "event_id": 2}) == [
        "event.event_id: expected string, got number",
        "event.sdk: expected object, got number",
    ]


def test_is_cheap_on_an_18_kb_event() -> None:
    base = max(
        (e for _, e in FIXTURE_EVENTS if len(orjson.dumps(e)) < 18_000), key=lambda e: len(orjson.dumps(e))
    )
    event = {**base, "extra": {**base.get("extra", {}), "padding": "x" * (18_000 - len(orjson.dumps(base)))}}
    assert 17_500 < len(orjson.dumps(event)) < 19_000
    runs = 2000
    best = min(timeit.repeat(lambda: check_event_types(event), number=runs, repeat=5)) / runs
    assert best < 20e-6, f"{best * 1e6:.1f} µs"
