"""Parsing server-side fingerprint rules (text and JSON) into ``FingerprintRules``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from . import budget
from .errors import RuleSyntaxError
from .event import EventView
from .fingerprinting import (
    DEFAULT_VAR,
    FINGERPRINT_KEYS,
    EventData,
    FingerprintMatcher,
    FingerprintRule,
    is_default_var,
)

_KEY = re.compile(r'"([a-zA-Z0-9_.:-]+)"|([a-zA-Z0-9_.-]+)')
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_UNQUOTED = re.compile(r"\S+")
_FP_UNQUOTED = re.compile(r"\{\{\s*\S+\s*\}\}|[^\s{,]+")
_FP_ATTRIBUTE = re.compile(r'([a-zA-Z0-9_.-]+)="((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r"\\(.)")


def _unescape(text: str) -> str:
    return _ESCAPE.sub(r"\1", text)


def make_matcher(key: str, pattern: str, negated: bool = False) -> FingerprintMatcher:
    """Build a matcher; raises ``KeyError`` for an unknown key."""
    if key.startswith("tags.") and len(key) > 5:
        return FingerprintMatcher(key, pattern, negated)
    return FingerprintMatcher(FINGERPRINT_KEYS[key], pattern, negated)


class _Line:
    def __init__(self, text: str, lineno: int) -> None:
        self.text, self.pos, self.lineno = text, 0, lineno

    def error(self, message: str) -> RuleSyntaxError:
        context = self.text[self.pos : self.pos + 30]
        near = f' near "{context}"' if context else " at end of line"
        return RuleSyntaxError(self.lineno, f"{message}{near} (column {self.pos + 1})")

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def matcher(self) -> FingerprintMatcher:
        negated = self.text.startswith("!", self.pos)
        self.pos += negated
        key = _KEY.match(self.text, self.pos)
        if key is None or not self.text.startswith(":", key.end()):
            raise self.error("expected a matcher such as error.type:Name")
        name = key.group(1) or key.group(2)
        self.pos = key.end() + 1
        pattern = self.argument(_UNQUOTED)
        try:
            return make_matcher(name, pattern, negated)
        except KeyError:
            raise self.error(f'unknown matcher "{name}"') from None

    def argument(self, unquoted: re.Pattern[str]) -> str:
        quoted = _QUOTED.match(self.text, self.pos)
        if quoted is not None:
            self.pos = quoted.end()
            return _unescape(quoted.group(1))
        if self.text.startswith('"', self.pos):
            raise self.error("unterminated quoted value")
        plain = unquoted.match(self.text, self.pos)
        if plain is None:
            raise self.error("missing value")
        self.pos = plain.end()
        return plain.group(0)

    def fingerprint(self) -> tuple[list[str], dict[str, str]]:
        values: list[str] = []
        attributes: dict[str, str] = {}
        while True:
            self.skip()
            if self.pos >= len(self.text):
                break
            attr = _FP_ATTRIBUTE.match(self.text, self.pos)
            if attr is not None:
                if attr.group(1) != "title":
                    raise self.error(f'unknown attribute "{attr.group(1)}" (only title= is supported)')
                attributes["title"] = _unescape(attr.group(2))
                self.pos = attr.end()
            else:
                value = self.argument(_FP_UNQUOTED)
                values.append(DEFAULT_VAR if is_default_var(value) else value)
            self.skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
        return values, attributes


def _strip_comment(line: str) -> str:
    stripped = line.strip()
    return "" if stripped.startswith("#") else stripped


def parse_rule_line(text: str, lineno: int, builtin: bool = False) -> FingerprintRule | None:
    line = _strip_comment(text)
    if not line:
        return None
    p = _Line(line, lineno)
    matchers: list[FingerprintMatcher] = []
    while True:
        p.skip()
        if p.text.startswith("->", p.pos):
            p.pos += 2
            break
        if p.pos >= len(p.text):
            raise p.error('expected "->" followed by the fingerprint')
        matchers.append(p.matcher())
    if not matchers:
        raise p.error('a rule needs at least one matcher before "->"')
    values, attributes = p.fingerprint()
    if not values:
        raise p.error('a rule needs at least one fingerprint value after "->"')
    return FingerprintRule(tuple(matchers), tuple(values), attributes, builtin)


class FingerprintRules:
    """An ordered list of fingerprint rules; the first match wins."""

    def __init__(self, rules: Iterable[FingerprintRule], text: str = "") -> None:
        self.rules = list(rules)
        self.text = text
        self._groups = [rule.matcher_groups() for rule in self.rules]

    def __bool__(self) -> bool:
        return bool(self.rules)

    @classmethod
    def from_text(cls, text: str, builtin: bool = False) -> FingerprintRules:
        if not isinstance(text, str):
            raise RuleSyntaxError(1, "rules must be text")
        rules = []
        for lineno, line in enumerate(text.splitlines(), start=1):
            rule = parse_rule_line(line, lineno, builtin)
            if rule is not None:
                rules.append(rule)
        return cls(rules, text)

    @classmethod
    def from_config(cls, config: Any) -> FingerprintRules:
        """Rules in JSON form: ``[{"matchers": [[key, value], ...], "fingerprint": [...], "attributes": {...}}]``.

        Malformed entries are skipped (this form is produced by programs, not typed by people).
        """
        items = config.get("rules") if isinstance(config, Mapping) else config
        rules = []
        for item in items if isinstance(items, list) else ():
            rule = _rule_from_json(item)
            if rule is not None:
                rules.append(rule)
        return cls(rules)

    def to_config(self) -> list[dict[str, Any]]:
        return [
            {
                "matchers": [[("!" if m.negated else "") + m.key, m.pattern] for m in rule.matchers],
                "fingerprint": list(rule.fingerprint),
                "attributes": dict(rule.attributes),
                "text": rule.text,
            }
            for rule in self.rules
        ]

    def match(self, view: EventView) -> FingerprintRule | None:
        if not self.rules:
            return None
        data = EventData(view)
        with budget.section():
            for rule, groups in zip(self.rules, self._groups, strict=True):
                budget.spend()
                if rule.matches(data, groups):
                    return rule
        return None


def _rule_from_json(item: Any) -> FingerprintRule | None:
    if not isinstance(item, Mapping):
        return None
    raw_matchers, fingerprint = item.get("matchers"), item.get("fingerprint")
    if not isinstance(raw_matchers, list) or not isinstance(fingerprint, list):
        return None
    matchers = []
    for pair in raw_matchers:
        if not (isinstance(pair, Sequence) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
            return None
        key, pattern = pair
        try:
            matchers.append(make_matcher(key.lstrip("!"), pattern, key.startswith("!")))
        except KeyError:
            return None
    values = [DEFAULT_VAR if is_default_var(v) else v for v in fingerprint if isinstance(v, str)]
    attributes = item.get("attributes")
    attrs = (
        {"title": attributes["title"]}
        if isinstance(attributes, Mapping) and isinstance(attributes.get("title"), str)
        else {}
    )
    if not matchers or not values:
        return None
    return FingerprintRule(tuple(matchers), tuple(values), attrs, item.get("is_builtin") is True)
