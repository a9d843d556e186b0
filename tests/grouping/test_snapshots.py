"""Exact grouping output of every captured SDK request and every event of Sentry's grouping corpus.

The snapshots (tests/grouping/snapshots/) hold, per registered grouping config, the hashes (primary
first) and, for the SDK captures, the issue title. A change to any of them fails here with a diff;
see tests/grouping/snapshot.py for how to regenerate them deliberately.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ingest.protocol.envelope import parse_envelope
from ingest.protocol.normalize import normalize_event
from ingest.protocol.scrub import scrub_event
from issues.eventinfo import compute_metadata, compute_title
from issues.grouping import compute_grouping, get_config_ids
from issues.grouping.__main__ import group_line

from .conftest import SDK_FIXTURES, require_shared
from .snapshot import Snapshot, check_snapshot

RECEIVED = 1_764_000_000.0  # any fixed time: grouping never reads it
# The configs LightTrace ships, read when this module is collected: before any test registers a
# config of its own (tests/test_merge.py does) in the process-wide registry.
SHIPPED_CONFIG_IDS = tuple(get_config_ids())


def _sdk_events() -> dict[str, dict[str, Any]]:
    """Entry name -> raw event, for every event item of every captured request."""
    events = {}
    for path in sorted(SDK_FIXTURES.glob("sentry.*/*.envelope")):
        name = f"{path.parent.name}/{path.name.removesuffix('.envelope')}"
        items = [
            item for item in parse_envelope(path.read_bytes()).items if item.headers.get("type") == "event"
        ]
        for number, item in enumerate(items):
            events[name if len(items) == 1 else f"{name}#{number}"] = json.loads(item.payload)
    return events


def _as_the_worker_groups(raw: dict[str, Any], config_id: str) -> dict[str, Any]:
    """What ingest/processing.py's prepare_event stores: normalize, scrub, then group and title."""
    event = normalize_event(raw, event_id=None, received=RECEIVED)
    scrub_event(event)
    result = compute_grouping(event, config_id=config_id)
    assert result.config_id == config_id
    title = result.title or compute_title(event, compute_metadata(event))
    return {"hashes": result.hashes, "title": title}


def test_sdk_captures_group_exactly_as_in_the_snapshot() -> None:
    events = _sdk_events()
    assert len(events) >= 50, f"only {len(events)} event items under {SDK_FIXTURES}"
    actual: Snapshot = {
        config_id: {name: _as_the_worker_groups(raw, config_id) for name, raw in events.items()}
        for config_id in SHIPPED_CONFIG_IDS
    }
    check_snapshot("sdk_captures.json", actual)


def _corpus_grouping(path: Path, config_id: str) -> dict[str, Any]:
    """As ``python -m issues.grouping`` groups it for the conformance scorer: the event's own
    ``_fingerprinting_rules`` and ``_grouping.enhancements`` apply as project settings."""
    result = json.loads(group_line(path.read_text(), config_id, full=True))
    assert result["config_id"] == config_id
    # Hashes only: titles would copy the corpus's content into the repository.
    return {"hashes": result["hashes"]}


def test_sentry_corpus_groups_exactly_as_in_the_snapshot() -> None:
    inputs = sorted(require_shared("conformance/sentry-grouping/inputs").glob("*.json"))
    assert len(inputs) >= 50, f"only {len(inputs)} corpus events"
    actual: Snapshot = {
        config_id: {path.stem: _corpus_grouping(path, config_id) for path in inputs}
        for config_id in SHIPPED_CONFIG_IDS
    }
    check_snapshot("sentry_corpus.json", actual)
