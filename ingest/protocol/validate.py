"""Cheap top-level type check of an event payload, run at the HTTP edge.

It only looks at the top-level fields (a couple of microseconds per event);
deep repairs are :func:`ingest.protocol.normalize.normalize_event`'s job.
``null`` is accepted everywhere, as Sentry treats it as "absent".
"""

from __future__ import annotations

from typing import Any

_STR = (str,)
_NUMBER_OR_STR = (int, float, str)
_OBJECT = (dict,)
_OBJECT_OR_LIST = (dict, list)
_LIST = (list,)
_STR_OR_OBJECT = (str, dict)

_FIELDS: tuple[tuple[str, tuple[type, ...], str], ...] = (
    ("event_id", _STR, "string"),
    ("timestamp", _NUMBER_OR_STR, "number or string"),
    ("level", _STR, "string"),
    ("platform", _STR, "string"),
    ("logger", _STR, "string"),
    ("release", _STR, "string"),
    ("environment", _STR, "string"),
    ("dist", _STR, "string"),
    ("server_name", _STR, "string"),
    ("transaction", _STR, "string"),
    ("culprit", _STR, "string"),
    ("tags", _OBJECT_OR_LIST, "object or list"),
    ("extra", _OBJECT, "object"),
    ("contexts", _OBJECT, "object"),
    ("user", _OBJECT, "object"),
    ("request", _OBJECT, "object"),
    ("sdk", _OBJECT, "object"),
    ("exception", _OBJECT_OR_LIST, "object or list"),
    ("breadcrumbs", _OBJECT_OR_LIST, "object or list"),
    ("threads", _OBJECT_OR_LIST, "object or list"),
    ("fingerprint", _LIST, "list"),
    ("message", _STR_OR_OBJECT, "string or object"),
    ("logentry", _OBJECT, "object"),
    ("modules", _OBJECT, "object"),
)

_JSON_NAMES = {
    dict: "object",
    list: "list",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
}


def check_event_types(event: dict[str, Any]) -> list[str]:
    """Reasons like ``event.timestamp: expected number or string, got list``."""
    reasons: list[str] = []
    get = event.get
    for name, allowed, expected in _FIELDS:
        value = get(name)
        if value is None:
            continue
        # bool is an int subclass: "timestamp": true must not pass as a number.
        if isinstance(value, allowed) and type(value) is not bool:
            continue
        got = _JSON_NAMES.get(type(value), type(value).__name__)
        reasons.append(f"event.{name}: expected {expected}, got {got}")
    return reasons
