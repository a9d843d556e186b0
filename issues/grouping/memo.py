"""Remembered grouping results for events of the same shape.

Most events of a project repeat the stack traces of earlier ones, and grouping them again costs
more than everything else the worker does. The key is everything grouping reads from an event
(taken from the EventView, before stack-trace rules change it) except two parts that vary per
event but rarely change the result:

- exception values ("order 123 not found"): when a stack trace contributes they do not enter the
  hashes. Whether they matter is not guessed from the code paths: the first event of a shape is
  also grouped with every value replaced by a sentinel, and only if both results agree is the
  result shared by all values. Matched fingerprint rules are part of the key, so a rule on
  ``error.value`` still decides per event; stack-trace rules on values disable the sharing.
- tags: only fingerprint rules read them, so they are in the key only when a rule could.

Only the hashes, the title and the config are remembered: callers that show the component
tree compute it without the memo.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .event import JS_FAMILY, EventView, Frame

# Keys hold the frames of their first event (a few KB each): 1,024 shapes stay a few MB per process.
MAX_ENTRIES = 1024
SENTINEL = "\x00lighttrace-grouping-probe\x00"
# Rule matchers on exception values (stack-trace rules), or on values or messages (fingerprint rules).
_VALUE_MATCHER = re.compile(r"(?:^|\s)!?(?:error\.)?value:")
_VALUE_OR_MESSAGE_MATCHER = re.compile(r"(?:^|\s)!?(?:error\.)?(?:value|message):", re.MULTILINE)
_DATA_KEYS = ("csp", "hpkp", "expectct", "expectstaple", "template")


@dataclass(frozen=True, slots=True)
class MemoResult:
    config_id: str
    hashes: tuple[str, ...]
    title: str | None


def _frames(frames: list[Frame] | None) -> tuple[Any, ...] | None:
    if frames is None:
        return None
    return tuple(
        (f.function, f.raw_function, f.module, f.filename, f.abs_path, f.context_line, f.package,
         f.platform, f.in_app, f.lineno, f.colno, f.sourcemap)
        for f in frames
    )  # fmt: skip


def shape_of(view: EventView, with_tags: bool) -> tuple[Any, ...]:
    excs = tuple(
        (e.type, e.module, e.synthetic, e.ns_error, e.exception_id, e.parent_id, e.is_group,
         e.mechanism_type, e.mechanism_source, _frames(e.frames))
        for e in view.exceptions
    )  # fmt: skip
    threads = tuple((t.crashed, t.current, _frames(t.frames)) for t in view.threads or ())
    data = tuple(repr(view.data.get(k)) for k in _DATA_KEYS if view.data.get(k) is not None)
    return (
        view.platform, excs, threads, _frames(view.stacktrace), view.message, view.formatted,
        tuple(view.fingerprint or ()), view.checksum, tuple(view.tags) if with_tags else None,
        view.sdk_name, view.sdk_version, view.release, view.logger, view.level, view.transaction, data,
    )  # fmt: skip


def rules_read_values(fingerprint_rules_text: str) -> bool:
    return bool(_VALUE_OR_MESSAGE_MATCHER.search(fingerprint_rules_text))


def tags_matter(view: EventView, fingerprint_rules_text: str) -> bool:
    # The built-in fingerprint rules that read tags are all for the JavaScript family
    # (tests/grouping/test_memo.py checks that this stays true).
    return (
        view.platform in JS_FAMILY
        or "tags" in fingerprint_rules_text
        or any("tags" in part for part in view.fingerprint or ())
    )


def values_may_be_shared(view: EventView, event: Mapping[str, Any], enhancements_text: str) -> bool:
    if _VALUE_MATCHER.search(enhancements_text):
        return False
    container = event.get("exception")
    if not isinstance(container, Mapping) or not isinstance(container.get("values"), list):
        return False
    # Without a type, the type is read out of the value ("TypeError: ..."): the value then counts.
    return not any(
        isinstance(e, Mapping) and not e.get("type") and e.get("value") for e in container["values"]
    )


def with_sentinel_values(event: Mapping[str, Any]) -> dict[str, Any]:
    probe = dict(event)
    values = [
        {**e, "value": SENTINEL} if isinstance(e, Mapping) and e.get("value") else e
        for e in event["exception"]["values"]
    ]
    probe["exception"] = {**event["exception"], "values": values}
    return probe


class GroupingMemo:
    """Shape key -> result shared by every value, or per-value results for that shape."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self.shared: dict[tuple[Any, ...], MemoResult] = {}
        self.by_value: dict[tuple[Any, ...], MemoResult] = {}
        self.value_bound: set[tuple[Any, ...]] = set()

    def get(self, key: tuple[Any, ...], values: tuple[Any, ...]) -> MemoResult | None:
        hit = self.shared.get(key)
        if hit is None and key in self.value_bound:
            hit = self.by_value.get((key, values))
        return hit

    def put(self, key: tuple[Any, ...], values: tuple[Any, ...], result: MemoResult, shared: bool) -> None:
        if len(self.shared) + len(self.by_value) >= self.max_entries:
            self.shared.clear()
            self.by_value.clear()
            self.value_bound.clear()
        if shared:
            self.shared[key] = result
        else:
            self.value_bound.add(key)
            self.by_value[(key, values)] = result
