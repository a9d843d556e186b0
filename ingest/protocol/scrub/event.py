"""Scrubbing a whole event, failing closed."""

from __future__ import annotations

from typing import Any

from .config import DEFAULT_SCRUB_CONFIG, FILTERED, ScrubConfig
from .keys import classifier_for
from .meta import attach_meta
from .walker import M_KEYS, M_ROOT, Record, walk

_FAIL_CLOSED_KEEP = frozenset(
    (
        "event_id",
        "timestamp",
        "start_timestamp",
        "level",
        "platform",
        "type",
        "logger",
        "release",
        "dist",
        "environment",
        "trace_id",
        "span_id",
        "severity_number",
        "module",
        "function",
        "filename",
        "abs_path",
        "lineno",
        "colno",
        "in_app",
        "mechanism",
        "handled",
        "name",
        "version",
    )
)


def fail_closed(root: Any) -> None:
    """Last resort if scrubbing itself failed: keep identifiers and frame locations, replace
    every other string with ``[Filtered]``."""
    try:
        stack: list[Any] = [root]
        while stack:
            obj = stack.pop()
            items: Any = list(obj.items()) if type(obj) is dict else list(enumerate(obj))
            for k, v in items:
                tv = type(v)
                if tv is dict or tv is list:
                    stack.append(v)
                elif tv is str and not (type(k) is str and k in _FAIL_CLOSED_KEEP):
                    obj[k] = FILTERED
    except Exception:  # noqa: BLE001
        if type(root) is dict:
            root.clear()


def scrub_event(event: dict[str, Any], config: ScrubConfig = DEFAULT_SCRUB_CONFIG) -> dict[str, Any]:
    """Scrub ``event`` in place and return it.  Never raises on JSON-shaped input."""
    if type(event) is not dict or not config.enabled:
        return event
    try:
        cls = classifier_for(config)
        rec: list[Record] = []
        walk([(event, None, M_KEYS | M_ROOT)], cls, rec)
        attach_meta(event, rec, cls)
    except Exception:  # noqa: BLE001 - a bug here must not let data through unscrubbed
        fail_closed(event)
    return event
