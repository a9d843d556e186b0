"""Rewrite a JavaScript event's minified frames to original file, line, column, function and source
context (pure Python, no Django). Finding the parsed map for a frame is the caller's `locate`; this
module keeps the minified frames as `raw_stacktrace`, as Sentry does, and says why a frame was not
mapped, on the frame (`data.sourcemap_error`) and once per file in the event's `errors`."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

CONTEXT_LINES = 5
_MAX = 2**31  # symbolic takes 32-bit positions; anything beyond is not a real position
JS_PLATFORMS = {"javascript", "node"}


@dataclass(frozen=True)
class MapHit:
    cache: Any  # symbolic.sourcemapcache.SourceMapCache
    map_url: str  # where the map is, relative to the script's URL ("app.min.js.map")
    resolved_with: str  # "debug-id" or "release", as Sentry records it


@dataclass(frozen=True)
class MapMiss:
    reason: str  # no_debug_id, no_bundle, no_source_map, invalid_source_map
    message: str
    error_type: str = "js_no_source"  # the event error type Sentry uses


Locate = Callable[[str, "str | None"], "MapHit | MapMiss"]


def sourcemap_images(event: dict[str, Any]) -> dict[str, str]:
    """`debug_meta.images` of type sourcemap: script URL (code_file) -> debug ID."""
    images = (event.get("debug_meta") or {}).get("images")
    found = {}
    for image in images if isinstance(images, list) else ():
        if isinstance(image, dict) and image.get("type") == "sourcemap":
            code_file, debug_id = image.get("code_file"), image.get("debug_id")
            if isinstance(code_file, str) and isinstance(debug_id, str):
                found[code_file] = debug_id
    return found


def _stacktraces(event: dict[str, Any]) -> list[dict[str, Any]]:
    holders = []
    for interface in ("exception", "threads"):
        values = (event.get(interface) or {}).get("values")
        for value in values if isinstance(values, list) else ():
            if isinstance(value, dict) and isinstance((value.get("stacktrace") or {}).get("frames"), list):
                holders.append(value)
    return holders


def apply_source_maps(event: dict[str, Any], locate: Locate) -> bool:
    """True if any frame was mapped. Unmapped frames stay as they are, with the reason."""
    if event.get("platform") not in JS_PLATFORMS:
        return False
    images = sourcemap_images(event)
    errors: dict[tuple[str, str], dict[str, Any]] = {}
    # Frames of one script share its map: ask once per script and event.
    found: dict[tuple[str, str | None], MapHit | MapMiss] = {}

    def locate_once(abs_path: str, debug_id: str | None) -> MapHit | MapMiss:
        key = (abs_path, debug_id)
        if key not in found:
            found[key] = locate(abs_path, debug_id)
        return found[key]

    mapped_any = False
    for holder in _stacktraces(event):
        frames = holder["stacktrace"]["frames"]
        raw = [dict(f) if isinstance(f, dict) else f for f in frames]
        changed = False
        for frame in frames:
            if isinstance(frame, dict):
                changed |= _map_frame(frame, images, locate_once, errors)
        if changed:
            holder["raw_stacktrace"] = {**holder["stacktrace"], "frames": raw}
            mapped_any = True
    if errors:
        event.setdefault("errors", []).extend(errors.values())
    return mapped_any


def _script_url(frame: dict[str, Any]) -> str | None:
    """Browser SDKs send the script's URL as `filename` only; Sentry takes it as `abs_path` then."""
    path = frame.get("abs_path") or frame.get("filename")
    if not isinstance(path, str) or not path or path in ("<anonymous>", "native", "[native code]"):
        return None
    return path


def _map_frame(frame: dict, images: dict[str, str], locate: Locate, errors: dict) -> bool:
    abs_path = _script_url(frame)
    if abs_path is None:
        return False
    lineno, colno = frame.get("lineno"), frame.get("colno")
    if (
        not isinstance(lineno, int)
        or not isinstance(colno, int)
        or not (0 < lineno < _MAX and 0 < colno < _MAX)
    ):
        _unmapped(frame, MapMiss("no_column", "the frame has no line and column", "js_no_column"), errors)
        return False
    found = locate(abs_path, images.get(abs_path))
    if isinstance(found, MapMiss):
        _unmapped(frame, found, errors)
        return False
    token = found.cache.lookup(lineno, colno, CONTEXT_LINES)
    if token is None:
        _unmapped(
            frame, MapMiss("no_mapping", "the source map has no mapping at this line and column"), errors
        )
        return False
    map_url, source, filename = _resolve_paths(abs_path, found.map_url, token.src)
    frame["abs_path"] = source
    frame["filename"] = filename
    frame["lineno"] = token.line
    frame["colno"] = token.col
    if token.function_name and token.function_name != "<unknown>":
        frame["function"] = token.function_name
    if token.context_line is not None:
        frame["context_line"] = token.context_line.rstrip("\r\n")
        frame["pre_context"] = [line.rstrip("\r\n") for line in token.pre_context]
        frame["post_context"] = [line.rstrip("\r\n") for line in token.post_context]
    frame["data"] = {
        **_frame_data(frame),
        "sourcemap": map_url,
        "resolved_with": found.resolved_with,
        "symbolicated": True,
    }
    return True


def _unmapped(frame: dict[str, Any], miss: MapMiss, errors: dict) -> None:
    frame["data"] = {
        **_frame_data(frame),
        "symbolicated": False,
        "sourcemap_error": {"reason": miss.reason, "message": miss.message},
    }
    url = _script_url(frame) or ""
    errors.setdefault((miss.reason, url), {"type": miss.error_type, "url": url, "reason": miss.message})


def _frame_data(frame: dict[str, Any]) -> dict[str, Any]:
    data = frame.get("data")
    return data if isinstance(data, dict) else {}


@lru_cache(maxsize=4096)
def _resolve_paths(abs_path: str, map_url: str, src: str | None) -> tuple[str, str, str]:
    """(the map's URL, the original source's URL, its filename); memoized, as frames repeat."""
    full_map_url = urljoin(abs_path, map_url) if map_url else abs_path
    source = _source_path(full_map_url, src) if src else abs_path
    return full_map_url, source, _filename(source)


def _source_path(map_url: str, src: str) -> str:
    """An original source's path: absolute ("webpack://app/./src/a.ts") as it is, else relative to
    the map (Sentry's rule): "../src/a.ts" next to http://host/dist/app.js.map is http://host/src/a.ts."""
    if urlsplit(src).scheme:
        return src
    return urljoin(map_url, src)


def _filename(abs_path: str) -> str:
    """The path without scheme and host, so that builds served from other hosts group together."""
    parts = urlsplit(abs_path)
    if parts.scheme in ("http", "https", "file", "app") or parts.scheme == "":
        return parts.path or abs_path
    # webpack://app/./src/a.ts -> ./src/a.ts (the bundler's namespace is not part of the file)
    path = parts.path.lstrip("/")
    return path if path.startswith(".") else posixpath.normpath(path)
