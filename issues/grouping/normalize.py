"""Stack-trace preparation before grouping.

Mirrors what happens to an event between ingestion and hashing: function
names are cleaned, browser script URLs get a module name with hashes and
versions stripped, stack-trace rules set ``in_app`` and categories, and frames
the SDK left undecided count as not in-app.
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import urlsplit

from .config import GroupingConfig
from .enhancements import Enhancements
from .event import EventView, Frame
from .functions import trim_function_name

_URL_PREFIXES = ("http:", "https:", "webpack:", "app:")
# Leading folders that say nothing about the code, and a trailing commit hash.
_MODULE_NOISE = re.compile(
    r"""^(?:/|(?:(?:java)?scripts?|js|build|static|node_modules|bower_components|[_.~].*?|
    v?(?:\d+\.)*\d+|[a-f0-9]{7,8}|[a-f0-9]{32}|[a-f0-9]{40})/)+|(?:[-.][a-f0-9]{7,}$)""",
    re.X | re.I,
)
_HASH_SEGMENT = re.compile(r"^[a-f0-9]{32}|[a-f0-9]{40}$", re.I)


def module_from_url(url: str) -> str:
    """``https://cdn.example.com/static/js/app.4f3a9c1e.min.js`` -> ``app``."""
    try:
        path = urlsplit(url).path
    except ValueError:
        path = url
    stem = posixpath.splitext(path)[0]
    if stem.endswith(".min"):
        stem = stem[:-4]
    tokens = stem.split("/")
    for idx, token in enumerate(tokens):
        if _HASH_SEGMENT.match(token):
            return "/".join(tokens[idx + 1 :])
    return _MODULE_NOISE.sub("", stem) or "<unknown module>"


def _strip_query(filename: str) -> str:
    try:
        query = urlsplit(filename).query
    except ValueError:
        return filename
    return filename.replace(f"?{query}", "") if query else filename


def _prepare_frame(frame: Frame, event_platform: str, config: GroupingConfig) -> None:
    if frame.function and frame.raw_function is None:
        trimmed = trim_function_name(frame.function, frame.platform or event_platform)
        if trimmed != frame.function:
            frame.raw_function = frame.function
            frame.function = trimmed
    if event_platform == "javascript":
        if frame.filename:
            frame.filename = _strip_query(frame.filename)
        if config.js_module_from_url and not frame.module and frame.abs_path:
            if frame.abs_path.startswith(_URL_PREFIXES):
                frame.module = module_from_url(frame.abs_path)


def prepare_stacktraces(view: EventView, config: GroupingConfig, enhancements: Enhancements) -> None:
    for frames in view.all_frame_lists():
        for frame in frames:
            _prepare_frame(frame, view.platform, config)
        enhancements.classify(frames, view.platform, view.exception_for(frames))
        for frame in frames:
            if frame.in_app is None:
                frame.in_app = False
