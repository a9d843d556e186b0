"""Event normalization: any JSON from any SDK -> one shape downstream relies on.

Relay accepts many legacy and lenient shapes (protocol doc section 8); this
module folds them into one form and never raises: a value of the wrong type,
at any depth, is dropped and reported like Relay does, in ``errors``
(``{"type": "invalid_data", "name": "user", "value": "bob"}``) and in
``_meta`` (``{"user": {"": {"err": ["invalid_data"], "val": "bob"}}}``).
Opaque nested values (``extra``, frame ``vars``, ``request.data``, ...) are
shared with ``raw``, not deep-copied: treat ``raw`` as consumed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import orjson

from ._coerce import Ctx, json_safe, lenient_str, normalize_level, parse_timestamp
from .envelope import normalize_event_id
from .interfaces import (
    normalize_breadcrumbs,
    normalize_contexts,
    normalize_fingerprint,
    normalize_object,
    normalize_request,
    normalize_tags,
    normalize_user,
)
from .logentry import normalize_logentry
from .meta import add_error_meta
from .stacktrace import normalize_exception, normalize_stacktrace, normalize_threads

_FUTURE_TOLERANCE = 3600.0
# serde_json's default recursion limit, which Relay parses events with.
_MAX_DEPTH = 128
_ENVIRONMENT_CAP = 64
_PLATFORM_CAP = 64
_STRING_FIELDS = (
    ("logger", 200),
    ("transaction", 200),
    ("server_name", 200),
    ("release", 200),
    ("dist", 200),
    ("culprit", 200),
)
# Types that say what the event *is*; "error"/"default" are derived instead.
_KEPT_TYPES = frozenset({"transaction", "feedback", "csp", "hpkp", "expectct", "expectstaple", "nel"})
_SERVER_SET = frozenset({"received", "project", "grouping_config", "ingest_path"})
# Old SDKs (raven) used the interface class paths as keys; first name wins.
_SOURCES = {
    "exception": ("exception", "sentry.interfaces.Exception"),
    "stacktrace": ("stacktrace", "sentry.interfaces.Stacktrace"),
    "request": ("request", "sentry.interfaces.Http"),
    "user": ("user", "sentry.interfaces.User"),
    "logentry": ("logentry", "sentry.interfaces.Message", "message"),
}
_HANDLED = frozenset(
    {name for names in _SOURCES.values() for name in names}
    | {name for name, _ in _STRING_FIELDS}
    | _SERVER_SET
    | {"event_id", "timestamp", "start_timestamp", "platform", "level", "environment", "type"}
    | {"errors", "_meta"}
    | {"tags", "breadcrumbs", "threads", "contexts", "extra", "modules", "sdk", "fingerprint"}
)

_Normalizer = Callable[[Any, Ctx, str], Any]


def normalize_event(
    raw: dict[str, Any],
    *,
    event_id: str | None,
    received: float,
    client_ip: str | None = None,
    platform_hint: str | None = None,
) -> dict[str, Any]:
    """Return a new, normalized event dict; never raises on any JSON value."""
    ctx = Ctx([], float(received), client_ip)
    if isinstance(raw, dict):
        _client_errors(raw.get("errors"), ctx)
    else:
        ctx.invalid("event", raw)
        raw = {}
    out = {key: value for key, value in raw.items() if key not in _HANDLED}
    out["event_id"] = _event_id(event_id, raw.get("event_id"), ctx)
    out["timestamp"] = ctx.timestamp = _timestamp(raw.get("timestamp"), ctx)
    out["received"] = ctx.received
    start = raw.get("start_timestamp")
    if start is not None:
        _set(out, "start_timestamp", parse_timestamp(start), ctx, start)
    out["platform"] = _platform(raw.get("platform"), platform_hint, ctx)
    raw_type = raw.get("type")
    if not isinstance(raw_type, str):
        if raw_type is not None:
            ctx.invalid("type", raw_type)
        raw_type = None
    default_level = "info" if raw_type == "transaction" else "error"
    out["level"] = normalize_level(raw.get("level"), default_level, ctx, "level")
    for name, cap in _STRING_FIELDS:
        value = raw.get(name)
        if value is not None:
            _set(out, name, _capped(value, cap), ctx, value)
    out["environment"] = _environment(raw.get("environment"), ctx)
    for name, normalizer in _COMPLEX_FIELDS:
        _apply(out, raw, name, normalizer, ctx)
    if raw_type in _KEPT_TYPES:
        out["type"] = raw_type
    else:
        out["type"] = "error" if "exception" in out else "default"
    _finish(out, raw.get("_meta"), ctx)
    return out


def _finish(out: dict[str, Any], sdk_meta: Any, ctx: Ctx) -> None:
    """Attach ``errors`` and ``_meta`` (the SDK's own, plus an entry per value dropped here)."""
    if ctx.errors:
        out["errors"] = ctx.errors
    if isinstance(sdk_meta, dict):
        out["_meta"] = dict(sdk_meta)  # entries are added copy-on-write (meta.py)
    trimmed = _ensure_serializable(out)
    if trimmed:
        # The walk copied "errors": keep recording into the copy that is stored.
        ctx.errors = out.setdefault("errors", [])
        # Only the too-deep parts were replaced; the error says so instead of quoting the value.
        for key in trimmed:
            ctx.add({"type": "invalid_data", "name": key, "reason": "too deeply nested or not JSON"}, (key,))
    if ctx.own_errors:
        add_error_meta(out.setdefault("_meta", {}), ctx.own_errors)


def _ensure_serializable(out: dict[str, Any]) -> list[str]:
    """Make ``out`` JSON-serializable in place; return the keys whose values had to be trimmed."""
    # One C-speed orjson.dumps() (a few µs) instead of walking every event in
    # Python; only pathological events pay for the walk.
    try:
        orjson.dumps(out)
        return []
    except (orjson.JSONEncodeError, TypeError):
        pass
    trimmed = []
    for key, value in out.items():
        hits: list[int] = []
        out[key] = json_safe(value, _MAX_DEPTH, hits)
        if hits:
            trimmed.append(key)
    return trimmed


def _apply(out: dict[str, Any], raw: dict[str, Any], name: str, normalizer: _Normalizer, ctx: Ctx) -> None:
    for source in _SOURCES.get(name, (name,)):
        value = raw.get(source)
        if value is None:
            continue
        try:
            result = normalizer(value, ctx, name)
        except Exception:  # a bug here must cost one field, never the event
            ctx.invalid(name, value)
            continue
        if result is not None:
            out[name] = result
            return


def _set(out: dict[str, Any], name: str, value: Any, ctx: Ctx, original: Any) -> None:
    if value is None:
        ctx.invalid(name, original)
    else:
        out[name] = value


def _client_errors(errors: Any, ctx: Ctx) -> None:
    """Processing errors the SDK (or a relay in front of us) already recorded are kept."""
    if errors is None:
        return
    if not isinstance(errors, list):
        ctx.invalid("errors", errors)
        return
    ctx.errors.extend(error for error in errors if isinstance(error, dict))
    # They are the SDK's errors, not ours: _meta gets entries for ours only.
    ctx.own_start = len(ctx.errors)
    for index, error in enumerate(errors):
        if not isinstance(error, dict):
            ctx.invalid(f"errors.{index}", error)


def _event_id(argument: str | None, payload: Any, ctx: Ctx) -> str:
    # The envelope header's event_id wins over the payload's (protocol doc 5).
    from_payload = normalize_event_id(payload)
    if from_payload is None and payload is not None:
        ctx.invalid("event_id", payload)
    return normalize_event_id(argument) or from_payload or uuid.uuid4().hex


def _timestamp(value: Any, ctx: Ctx) -> float:
    if value is None:
        return ctx.received
    timestamp = parse_timestamp(value)
    if timestamp is None:
        ctx.invalid("timestamp", value)
        return ctx.received
    if timestamp > ctx.received + _FUTURE_TOLERANCE:
        # A wrong client clock would otherwise pin the event above all others.
        ctx.error("future_timestamp", "timestamp", value)
        return ctx.received
    return timestamp


def _platform(value: Any, hint: str | None, ctx: Ctx) -> str:
    if isinstance(value, str) and value and len(value) <= _PLATFORM_CAP:
        return value
    if value is not None:
        ctx.invalid("platform", value)
    if isinstance(hint, str) and hint and len(hint) <= _PLATFORM_CAP:
        return hint
    return "other"


def _capped(value: Any, cap: int) -> str | None:
    text = lenient_str(value)
    return None if text is None else text[:cap]


def _environment(value: Any, ctx: Ctx) -> str:
    if value is not None:
        text = _capped(value, _ENVIRONMENT_CAP)
        if text:
            return text
        if text is None:
            ctx.invalid("environment", value)
    return "production"


_COMPLEX_FIELDS: tuple[tuple[str, _Normalizer], ...] = (
    ("logentry", normalize_logentry),
    ("exception", normalize_exception),
    ("threads", normalize_threads),
    ("stacktrace", normalize_stacktrace),
    ("breadcrumbs", normalize_breadcrumbs),
    ("tags", normalize_tags),
    ("user", normalize_user),
    ("request", normalize_request),
    ("contexts", normalize_contexts),
    ("extra", normalize_object),
    ("modules", normalize_object),
    ("sdk", normalize_object),
    ("fingerprint", normalize_fingerprint),
)
