"""Server-side fingerprint rules and fingerprint variables.

Rule text, one rule per line::

    error.type:DatabaseUnavailable -> system-down
    stack.function:"foo*" !stack.module:vendor.* -> {{ default }}, my-part
    logger:payments level:error -> payments-errors title="Payment failed: {{ error.value }}"

Matchers on the left are ``[!]key:glob``; the fingerprint on the right is a
comma/space separated list of literals and ``{{ variables }}``.  Rules are
tried in order; the first matching one replaces the event's fingerprint.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import budget
from .enhancement_rules import bool_from_string
from .event import EventView, behavior_family
from .glob import compile_glob, normalize_path, path_match

DEFAULT_VAR = "{{ default }}"
_VAR = re.compile(r"\{\{\s*(\S+)\s*\}\}")
FINGERPRINT_KEYS = {
    "error.type": "type",
    "type": "type",
    "error.value": "value",
    "value": "value",
    "stack.module": "module",
    "module": "module",
    "stack.abs_path": "path",
    "path": "path",
    "stack.package": "package",
    "package": "package",
    "stack.function": "function",
    "function": "function",
    "message": "message",
    "logger": "logger",
    "level": "level",
    "family": "family",
    "app": "app",
    "sdk": "sdk",
    "release": "release",
}
_MATCH_TYPE = {
    "message": "toplevel",
    "logger": "log_info",
    "level": "log_info",
    "type": "exceptions",
    "value": "exceptions",
    "sdk": "sdk",
    "family": "family",
    "release": "release",
}


def variable_name(entry: str) -> str | None:
    match = _VAR.fullmatch(entry)
    return match.group(1) if match else None


def is_default_var(entry: str) -> bool:
    return variable_name(entry) == "default"


@dataclass(frozen=True, slots=True)
class FingerprintMatcher:
    key: str  # canonical key, or "tags.<name>"
    pattern: str
    negated: bool = False

    @property
    def match_type(self) -> str:
        if self.key.startswith("tags."):
            return "tags"
        return _MATCH_TYPE.get(self.key, "frames")

    @property
    def text(self) -> str:
        return f'{"!" if self.negated else ""}{self.key}:"{self.pattern}"'

    def matches(self, row: Mapping[str, Any]) -> bool:
        return self._positive(row) != self.negated

    def _path(self, value: Any) -> bool:
        if not isinstance(value, str):
            return False
        return path_match(compile_glob(self.pattern, True, True), normalize_path(value))

    def _positive(self, row: Mapping[str, Any]) -> bool:
        key = self.key
        if key == "path":
            return any(self._path(v) for v in {row.get("abs_path"), row.get("filename")})
        if key == "message":
            glob = compile_glob(self.pattern, False, True)
            return any(isinstance(v, str) and glob(v.lower()) for v in (row.get("message"), row.get("value")))
        value = row.get(key)
        if value is None:
            return False
        if key in ("package", "release"):
            return self._path(value)
        if key in ("family", "sdk"):
            flags = self.pattern.split(",")
            return "all" in flags or value in flags
        if key == "app":
            return bool(value == bool_from_string(self.pattern))
        if key in ("level", "value"):
            return compile_glob(self.pattern, False, True)(str(value).lower())
        return compile_glob(self.pattern)(str(value))


@dataclass(frozen=True, slots=True)
class FingerprintRule:
    matchers: tuple[FingerprintMatcher, ...]
    fingerprint: tuple[str, ...]
    attributes: Mapping[str, str] = field(default_factory=dict)
    builtin: bool = False

    @property
    def text(self) -> str:
        attrs = " ".join(f'{k}="{v}"' for k, v in sorted(self.attributes.items()))
        matchers = " ".join(m.text for m in self.matchers)
        return f'{matchers} -> "{"".join(self.fingerprint)}" {attrs}'.rstrip()

    def matcher_groups(self) -> list[tuple[str, list[FingerprintMatcher]]]:
        """Matchers by the part of the event they look at; cheap whole-event checks first."""
        by_type: dict[str, list[FingerprintMatcher]] = {}
        for matcher in self.matchers:
            by_type.setdefault(matcher.match_type, []).append(matcher)
        return sorted(by_type.items(), key=lambda item: item[0] not in ("family", "sdk", "release"))

    def matches(
        self, data: EventData, groups: list[tuple[str, list[FingerprintMatcher]]] | None = None
    ) -> bool:
        # every group must be satisfied, each by a single row (frame, exception, ...)
        for match_type, matchers in groups if groups is not None else self.matcher_groups():
            if not _some_row_matches(data.rows(match_type), matchers):
                return False
        return True


def _some_row_matches(rows: list[dict[str, Any]], matchers: list[FingerprintMatcher]) -> bool:
    deadline = budget.current()
    for row in rows:
        if deadline is not None:
            deadline.spend(len(matchers))
        if all(m.matches(row) for m in matchers):
            return True
    return False


class EventData:
    """The rows each matcher type is tested against (computed lazily)."""

    def __init__(self, view: EventView) -> None:
        self.view = view
        self._cache: dict[str, list[dict[str, Any]]] = {}

    def rows(self, match_type: str) -> list[dict[str, Any]]:
        if match_type not in self._cache:
            self._cache[match_type] = getattr(self, "_" + match_type)()
        return self._cache[match_type]

    def _messages(self) -> list[dict[str, Any]]:
        formatted = self.view.formatted
        return [{"message": formatted.strip()}] if formatted else []

    def _exceptions(self) -> list[dict[str, Any]]:
        return [{"type": e.type, "value": e.value.strip() if e.value else None} for e in self.view.exceptions]

    def _toplevel(self) -> list[dict[str, Any]]:
        return self._messages() + self._exceptions()

    def _log_info(self) -> list[dict[str, Any]]:
        info = {k: v for k, v in (("logger", self.view.logger), ("level", self.view.level)) if v}
        return [info] if info else []

    def _frames(self) -> list[dict[str, Any]]:
        rows = []
        for frames in self.view.all_frame_lists():
            for f in frames:
                rows.append(
                    {
                        "function": f.function or "<unknown>",
                        "abs_path": f.abs_path or f.filename,
                        "filename": f.filename,
                        "module": f.module,
                        "package": f.package,
                        "app": f.in_app,
                    }
                )
        return rows

    def _tags(self) -> list[dict[str, Any]]:
        return [{f"tags.{k}": v.strip() if v else None for k, v in self.view.tags}]

    def _sdk(self) -> list[dict[str, Any]]:
        return [{"sdk": self.view.sdk_name or "other"}]

    def _family(self) -> list[dict[str, Any]]:
        return [{"family": behavior_family(self.view.platform)}]

    def _release(self) -> list[dict[str, Any]]:
        release = self.view.release
        return [{"release": release.strip() if release else None}]
