"""A tolerant, read-only view of an event for grouping.

Events arrive either in LightTrace's normalised form or straight from an SDK
(or Sentry's test corpus).  This module accepts both, ignores values of the
wrong type instead of failing, and produces small typed objects that the
strategies work on.  Nothing here raises on JSON-shaped input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

VALID_PLATFORMS = frozenset(
    "as3 c cfml cocoa csharp elixir haskell go groovy java javascript native node objc other "
    "perl php python ruby".split()
)
NATIVE_FAMILY = frozenset(("objc", "cocoa", "swift", "native", "c"))
JS_FAMILY = frozenset(("javascript", "node"))
_TYPE_IN_VALUE = re.compile(r"^(\w+):(.*)$", re.DOTALL)


def behavior_family(platform: str | None) -> str:
    if platform in NATIVE_FAMILY:
        return "native"
    if platform in JS_FAMILY:
        return "javascript"
    return "other"


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def lenient_str(value: Any) -> str | None:
    """Strings as they are; numbers and booleans rendered the way JSON writes them."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None


def _s(value: Any) -> str | None:
    return value if type(value) is str else None


def as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def values_of(container: Any) -> list[Any]:
    """Accept ``{"values": [...]}``, a bare list, or a single object."""
    if isinstance(container, Mapping):
        if "values" in container:
            inner = container.get("values")
            return inner if isinstance(inner, list) else []
        return [container] if container else []
    if isinstance(container, list):
        return container
    return []


def frame_count(event: Mapping[str, Any]) -> int:
    """Frames of every stack trace of a raw event (exceptions, top level, threads), counted without
    parsing them."""

    def count(holder: Any) -> int:
        stacktrace = holder.get("stacktrace") if isinstance(holder, Mapping) else None
        frames = stacktrace.get("frames") if isinstance(stacktrace, Mapping) else None
        return len(frames) if isinstance(frames, list) else 0

    holders = [*values_of(event.get("exception")), event, *values_of(event.get("threads"))]
    return sum(count(holder) for holder in holders)


class Frame:
    __slots__ = (
        "function",
        "raw_function",
        "module",
        "filename",
        "abs_path",
        "context_line",
        "package",
        "platform",
        "in_app",
        "client_in_app",
        "lineno",
        "colno",
        "sourcemap",
        "category",
        "in_app_rule",
        "match",
    )

    def __init__(self, data: Mapping[str, Any]) -> None:
        get = data.get
        self.function = _s(get("function"))
        self.raw_function = _s(get("raw_function"))
        self.module = _s(get("module"))
        self.filename = _s(get("filename"))
        self.abs_path = _s(get("abs_path"))
        self.context_line = _s(get("context_line"))
        self.package = _s(get("package"))
        platform = get("platform")
        self.platform = platform if platform in VALID_PLATFORMS else None
        in_app = get("in_app")
        self.in_app: bool | None = in_app if type(in_app) is bool else None
        self.client_in_app = self.in_app
        lineno, colno = get("lineno"), get("colno")
        self.lineno = lineno if type(lineno) is int else None
        self.colno = colno if type(colno) is int else None
        extra = get("data")
        self.sourcemap = type(extra) is dict and extra.get("sourcemap") is not None
        self.category: str | None = None
        # description of the stack-trace rule that last changed ``in_app``
        self.in_app_rule: str | None = None
        # cached rule-matching view of this frame (see enhancements.MatchFrame)
        self.match: Any = None

    def recursion_key(self) -> tuple[Any, ...]:
        return (
            self.abs_path,
            self.package,
            self.module,
            self.filename,
            self.function,
            self.lineno,
            self.colno,
        )


def parse_frames(stacktrace: Any) -> list[Frame] | None:
    """Frames of a stack trace object, or ``None`` if there is no stack trace."""
    if not isinstance(stacktrace, Mapping):
        return None
    frames = stacktrace.get("frames")
    if not isinstance(frames, list):
        return None
    parsed = [Frame(f) for f in frames if type(f) is dict or isinstance(f, Mapping)]
    # an empty frame list is not a stack trace at all (ingest drops it)
    return parsed or None


class Exc:
    __slots__ = (
        "type",
        "value",
        "module",
        "frames",
        "synthetic",
        "ns_error",
        "exception_id",
        "parent_id",
        "is_group",
        "mechanism_type",
        "mechanism_source",
    )

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.type = as_str(data.get("type")) or None
        self.value = lenient_str(data.get("value"))
        if self.type is None and self.value:
            split = _TYPE_IN_VALUE.match(self.value)
            if split is not None:
                self.type, self.value = split.group(1), split.group(2).strip()
        self.module = as_str(data.get("module"))
        self.frames = parse_frames(data.get("stacktrace"))
        mechanism = as_dict(data.get("mechanism"))
        self.synthetic = mechanism.get("synthetic") is True
        ns_error = as_dict(as_dict(mechanism.get("meta")).get("ns_error"))
        self.ns_error: tuple[str, str] | None = None
        if ns_error:
            self.ns_error = (
                lenient_str(ns_error.get("domain")) or "None",
                lenient_str(ns_error.get("code")) or "None",
            )
        self.exception_id = as_int(mechanism.get("exception_id"))
        self.parent_id = as_int(mechanism.get("parent_id"))
        self.is_group = mechanism.get("is_exception_group") is True
        self.mechanism_type = as_str(mechanism.get("type"))
        self.mechanism_source = as_str(mechanism.get("source"))


class Thread:
    __slots__ = ("frames", "crashed", "current")

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.frames = parse_frames(data.get("stacktrace"))
        self.crashed = data.get("crashed") is True
        self.current = data.get("current") is True


def _tags(raw: Any) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    items: Any = raw.items() if isinstance(raw, Mapping) else raw
    if not isinstance(items, list) and not isinstance(raw, Mapping):
        return pairs
    for item in items:
        if isinstance(item, list | tuple) and len(item) == 2:
            key, value = as_str(item[0]), lenient_str(item[1])
            if key is not None and value is not None:
                pairs.append((key, value))
    return pairs


def _fingerprint(raw: Any) -> list[str] | None:
    if not isinstance(raw, list):
        return None
    out = [v for v in (lenient_str(x) for x in raw) if v is not None]
    return out or None


def _logentry(event: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(template, formatted) of the log message, from ``logentry`` or legacy ``message``."""
    entry: Any = event.get("logentry")
    if not isinstance(entry, Mapping):
        entry = event.get("sentry.interfaces.Message")
    legacy = event.get("message")
    if not isinstance(entry, Mapping):
        entry = legacy if isinstance(legacy, Mapping) else {"formatted": legacy}
    message = lenient_str(entry.get("message")) or None
    formatted = lenient_str(entry.get("formatted")) or None
    if formatted is None:
        formatted = message
    return message, formatted


class EventView:
    """Typed access to the parts of an event that grouping looks at."""

    def __init__(self, event: Mapping[str, Any]) -> None:
        platform = event.get("platform")
        self.platform: str = platform if platform in VALID_PLATFORMS else "other"
        self.data = event
        self.exceptions = [Exc(e) for e in values_of(event.get("exception")) if isinstance(e, Mapping)]
        threads = event.get("threads")
        self.threads: list[Thread] | None = None
        if threads is not None:
            parsed = [Thread(t) for t in values_of(threads) if isinstance(t, Mapping)]
            self.threads = parsed or None
        self.stacktrace = parse_frames(event.get("stacktrace"))
        self.message, self.formatted = _logentry(event)
        self.fingerprint = _fingerprint(event.get("fingerprint"))
        self.checksum = as_str(event.get("checksum")) or None
        self.tags = _tags(event.get("tags"))
        sdk = as_dict(event.get("sdk"))
        self.sdk_name = as_str(sdk.get("name"))
        self.sdk_version = as_str(sdk.get("version")) or ""
        self.release = lenient_str(event.get("release"))
        self.logger = as_str(event.get("logger"))
        self.level = as_str(event.get("level"))
        self.transaction = as_str(event.get("transaction"))

    def all_frame_lists(self) -> list[list[Frame]]:
        """Every stack trace of the event: exceptions, top level, then threads."""
        out = [e.frames for e in self.exceptions if e.frames]
        if self.stacktrace:
            out.append(self.stacktrace)
        for thread in self.threads or ():
            if thread.frames:
                out.append(thread.frames)
        return out

    def exception_for(self, frames: list[Frame]) -> Exc | None:
        for exc in self.exceptions:
            if exc.frames is frames:
                return exc
        return None

    def crash_frame(self) -> Frame | None:
        """Closest-to-crash in-app frame of the main stack trace (else its last frame)."""
        frames: list[Frame] | None = None
        if self.exceptions:
            frames = self.exceptions[-1].frames
        if not frames:
            frames = self.stacktrace
        if not frames and self.threads and len(self.threads) == 1:
            frames = self.threads[0].frames
        default = None
        for frame in reversed(frames or ()):
            if frame.in_app:
                return frame
            if default is None:
                default = frame
        return default
