"""Sentry's ``_meta`` entries for the values the normalizer removed.

Relay records every value it drops twice: in the event's ``errors``
(``{"type": "invalid_data", "name": "user", "value": "bob"}``) and in ``_meta`` at the value's
path (``{"user": {"": {"err": ["invalid_data"], "val": "bob"}}}``); error data beyond type, name
and value (e.g. ``reason``) goes into the ``err`` entry as ``["invalid_data", {"reason": ...}]``.

The original values are user input: the scrubber drops every ``val`` of an incoming ``_meta``
and scrubs the ``errors`` entries instead, so :func:`restore_error_values` puts the scrubbed
copies back after scrubbing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ._coerce import TOO_BIG, small_original

_NOT_DATA = frozenset({"type", "name", "value"})


def add_error_meta(meta: dict[str, Any], errors: Iterable[tuple[Sequence[str], dict[str, Any]]]) -> None:
    """Merge one ``_meta`` leaf per ``(path, error)`` into ``meta`` (which may hold the SDK's own)."""
    for path, error in errors:
        kind = error.get("type")
        leaf = _leaf(meta, path, create=True) if isinstance(kind, str) else None
        if leaf is None:
            continue
        data = {key: value for key, value in error.items() if key not in _NOT_DATA}
        entry: Any = [kind, data] if data else kind
        err = leaf.get("err")
        err = leaf["err"] = list(err) if isinstance(err, list) else []
        if entry not in err:
            err.append(entry)
        if "value" in error and "val" not in leaf:
            _set_val(leaf, error["value"])


def restore_error_values(event: dict[str, Any]) -> None:
    """Give each ``_meta`` error leaf without ``val`` the (scrubbed) value of its ``errors`` entry."""
    meta, errors = event.get("_meta"), event.get("errors")
    if not isinstance(meta, dict) or not isinstance(errors, list):
        return
    for error in errors:
        if not isinstance(error, dict) or "value" not in error or not isinstance(error.get("name"), str):
            continue
        leaf = _leaf(meta, error["name"].split("."), create=False)
        if leaf is None or "val" in leaf or not _has_error(leaf, error.get("type")):
            continue
        _set_val(leaf, error["value"])


def _leaf(meta: dict[str, Any], keys: Sequence[str], *, create: bool) -> dict[str, Any] | None:
    if not keys or "" in keys:
        return None  # an empty key would read as a meta leaf marker
    node = meta
    for key in [*keys, ""]:
        child = node.get(key)
        if not isinstance(child, dict):
            if not create:
                return None
            child = {}
        if create:
            # Copy on write: the SDK's _meta belongs to the raw event, which is never changed.
            child = node[key] = dict(child)
        node = child
    return node


def _has_error(leaf: dict[str, Any], kind: Any) -> bool:
    err = leaf.get("err")
    if not isinstance(err, list):
        return False
    return any(entry == kind or (isinstance(entry, list) and entry[:1] == [kind]) for entry in err)


def _set_val(leaf: dict[str, Any], value: Any) -> None:
    # A copy (of a small value only): the errors entry and _meta must not share a container.
    copy = small_original(value)
    if copy is not TOO_BIG:
        leaf["val"] = copy
