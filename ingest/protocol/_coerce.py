"""Small value coercions shared by the event normalizers.

Everything here must accept any JSON value (and then some) without raising:
events are user input, and one bad field must never lose the whole event.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

LEVELS = frozenset({"fatal", "error", "warning", "info", "debug"})
_LEVEL_ALIASES = {"warn": "warning", "critical": "fatal", "log": "info"}
# raven-python and other old clients sent stdlib logging levels as numbers.
_NUMERIC_LEVELS = {10: "debug", 20: "info", 30: "warning", 40: "error", 50: "fatal"}
_REPR_CAP = 64
# Relay keeps an invalid value beside its error only when it is this small (its _meta is not trimmed).
ORIGINAL_VALUE_CAP = 500
# 1970 .. 9999-12-31: what datetime.fromtimestamp() downstream can represent.
_MIN_TIMESTAMP = 0.0
_MAX_TIMESTAMP = 253402300799.0
# Marks "no original value kept" (None is a value: an explicit JSON null).
TOO_BIG = object()


def small_original(value: Any) -> Any:
    """A JSON-safe copy of ``value`` if it serializes to under 500 bytes, else ``TOO_BIG``.

    Bounded work: a container with many items, or nested deeper than orjson allows, is too big
    without being walked in Python.
    """
    kind = type(value)
    if value is None or kind is bool or kind is float:
        return value
    if kind is str:
        return value if len(value) < ORIGINAL_VALUE_CAP else TOO_BIG
    if kind is int:
        return value if -(2**63) <= value < 2**64 else TOO_BIG
    if (kind is dict or kind is list or kind is tuple) and len(value) < ORIGINAL_VALUE_CAP // 2:
        try:
            text = orjson.dumps(value)
        except (orjson.JSONEncodeError, TypeError):
            return TOO_BIG
        # A copy: the event's copy may be scrubbed or changed after this point.
        return orjson.loads(text) if len(text) < ORIGINAL_VALUE_CAP else TOO_BIG
    return TOO_BIG


class Ctx:
    """Per-event state threaded through the normalizers.

    ``errors`` starts with the ones the SDK sent; ``own_errors`` are the ones found here, with
    ``paths`` (their keys, one tuple per own error) for ``_meta``.
    """

    __slots__ = ("errors", "own_start", "paths", "received", "timestamp", "client_ip")

    def __init__(self, errors: list[dict[str, Any]], received: float, client_ip: str | None) -> None:
        self.errors = errors
        self.own_start = len(errors)
        self.paths: list[tuple[str, ...]] = []
        self.received = received
        self.timestamp = received
        self.client_ip = client_ip

    def invalid(self, name: str, value: Any, path: tuple[str, ...] | None = None) -> None:
        """Record that ``value`` at ``name`` (a dotted path) was dropped or replaced as invalid.

        ``path`` gives the keys when one of them may hold a dot (a context's name).
        """
        self.error("invalid_data", name, value, path)

    def error(
        self,
        kind: str,
        name: str,
        value: Any,
        path: tuple[str, ...] | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        # Relay's shape: {"type", "name": dotted path, "value": the original value when small,
        # then the error's own data, e.g. "attribute" of a missing_attribute}.
        error: dict[str, Any] = {"type": kind, "name": name, **(data or {})}
        small = small_original(value)
        if small is not TOO_BIG:
            error["value"] = small
        self.add(error, path)

    def add(self, error: dict[str, Any], path: tuple[str, ...] | None = None) -> None:
        self.errors.append(error)
        self.paths.append(path if path is not None else tuple(error["name"].split(".")))

    @property
    def own_errors(self) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
        # Equal lengths by construction (every own error goes through add); never raise here.
        return list(zip(self.paths, self.errors[self.own_start :], strict=False))


def short_repr(value: Any) -> str:
    """A bounded description: never walks (or repr()s) a nested structure."""
    if isinstance(value, str):
        if len(value) > _REPR_CAP:
            return repr(value[:_REPR_CAP]) + "..."
        return repr(value)
    if isinstance(value, dict):
        return f"<object with {len(value)} keys>"
    if isinstance(value, list | tuple):
        return f"<array of {len(value)} items>"
    try:
        text = repr(value)
    except Exception:  # e.g. int too large to convert to str
        return f"<{type(value).__name__}>"
    return text if len(text) <= _REPR_CAP else text[:_REPR_CAP] + "..."


def to_str(value: Any) -> str | None:
    """Stringify like Relay's JsonLenientString: JSON text for non-strings."""
    if isinstance(value, str):
        return value
    if value is None:
        return None
    if value is True:
        return "true"
    if value is False:
        return "false"
    try:
        if isinstance(value, int | float):
            return str(value)
        return orjson.dumps(value).decode()
    except Exception:  # orjson's depth limit, 64-bit int overflow, huge ints
        return short_repr(value)


def lenient_str(value: Any) -> str | None:
    """A string field that tolerates numbers (``"release": 123``); else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return to_str(value)
    return None


def parse_timestamp(value: Any) -> float | None:
    """Epoch seconds from a number or an RFC 3339 / ISO 8601 string."""
    result = _parse_timestamp(value)
    # The range check also rejects NaN and infinities.
    if result is None or not _MIN_TIMESTAMP <= result <= _MAX_TIMESTAMP:
        return None
    return result


def _parse_timestamp(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text[:1].isdigit() and "-" not in text and ":" not in text:
        # Some SDKs send epoch seconds as a string ("1795520626.775").
        try:
            return float(text)
        except ValueError:
            return None
    return _parse_iso(text)


def _parse_iso(text: str) -> float | None:
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            # Naive timestamps are UTC by protocol, never server-local time.
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    except (ValueError, OverflowError, OSError):
        return None


def normalize_level(value: Any, default: str, ctx: Ctx, name: str) -> str:
    if value is None:
        return default
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in LEVELS:
            return lowered
        alias = _LEVEL_ALIASES.get(lowered)
        if alias is not None:
            return alias
    elif isinstance(value, int) and not isinstance(value, bool) and value in _NUMERIC_LEVELS:
        return _NUMERIC_LEVELS[value]
    ctx.invalid(name, value)
    return default


def keep_if(out: dict[str, Any], key: str, kind: type, ctx: Ctx, path: str) -> None:
    """Drop ``out[key]`` if null, or (recording why) if not of ``kind``."""
    value = out.get(key)
    if value is None:
        out.pop(key, None)
    elif not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        ctx.invalid(f"{path}.{key}", out.pop(key))


def as_int(value: Any) -> int | None:
    """Non-negative int (integral floats accepted), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    return None


def values_list(value: Any, ctx: Ctx, name: str) -> list[Any] | None:
    """Unwrap the ``{"values": [...]}`` / bare-list forms of an interface."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        inner = value.get("values")
        if isinstance(inner, list):
            return inner
        if inner is None:
            return []
        ctx.invalid(f"{name}.values", inner)
        return None
    ctx.invalid(name, value)
    return None


_INT64_MIN = -(2**63)
_UINT64_MAX = 2**64 - 1
DEPTH_EXCEEDED = "[max depth exceeded]"


def json_safe(value: Any, depth: int, hits: list[int]) -> Any:
    """A copy that orjson.dumps() accepts: bounded depth, 64-bit ints, str keys.

    orjson.loads() accepts 1024 levels but orjson.dumps() only 254, so a deep
    payload would otherwise parse, normalize and then fail to serialize. The
    recursion is bounded by ``depth``. ``hits`` counts the replaced values.
    """
    kind = type(value)
    if kind is str or kind is float or kind is bool or value is None:
        return value
    if kind is dict or kind is list or kind is tuple:
        if depth <= 0:
            hits.append(1)
            return DEPTH_EXCEEDED
        if kind is dict:
            return {
                key if type(key) is str else str(key): json_safe(item, depth - 1, hits)
                for key, item in value.items()
            }
        return [json_safe(item, depth - 1, hits) for item in value]
    if kind is int and _INT64_MIN <= value <= _UINT64_MAX:
        return value
    hits.append(1)
    return short_repr(value)
