"""Stack-trace rules ("enhancements"): model and text parser.

One rule per line: matchers, then actions.

    stack.module:vendor.* -app
    stack.function:assert_* -group
    family:javascript stack.abs_path:**/node_modules/** -app
    stack.function:wrapped_view ^-group -group
    [ category:ui ] | category:system category=internals
    error.type:DatabaseError max-frames=3

Matchers: ``[!]key:argument`` where the argument may be double-quoted.
``[ matcher ] |`` before the frame matchers tests the calling frame and
``| [ matcher ]`` after them tests the called frame.  Actions: ``+app``,
``-app``, ``+group``, ``-group`` (optionally prefixed by ``^`` = frames
towards the crash, ``v`` = frames towards the program start), and
``category=``, ``max-frames=``, ``min-frames=``, ``invert-stacktrace=``.
``#`` starts a comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import RuleSyntaxError

MATCHER_KEYS = {
    "path": "path",
    "stack.abs_path": "path",
    "function": "function",
    "stack.function": "function",
    "module": "module",
    "stack.module": "module",
    "package": "package",
    "stack.package": "package",
    "stack.filename": "filename",
    "family": "family",
    "app": "app",
    "category": "category",
    "type": "type",
    "error.type": "type",
    "value": "value",
    "error.value": "value",
    "mechanism": "mechanism",
    "error.mechanism": "mechanism",
}
EXCEPTION_KEYS = frozenset(("type", "value", "mechanism"))
FLAG_NAMES = frozenset(("app", "group", "prefix", "sentinel"))
VAR_NAMES = frozenset(("max-frames", "min-frames", "invert-stacktrace", "category"))

_FLAG_ACTION = re.compile(r"([\^v]?)([+-])([a-z]+)(?=\s|$)")
_VAR_ACTION = re.compile(r"([a-z-]+)=(\S*)")
_KEY = re.compile(r'"([a-zA-Z0-9_.:-]+)"|([a-zA-Z0-9_.-]+)')
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_UNQUOTED = re.compile(r"\S+")
_IDENT = re.compile(r"[a-zA-Z0-9_.-]+\Z")
_ESCAPE = re.compile(r"\\(.)")


@dataclass(frozen=True, slots=True)
class Matcher:
    key: str  # canonical key (see MATCHER_KEYS values)
    pattern: str
    negated: bool = False
    # -1: the calling frame, +1: the called frame, 0: the frame itself
    offset: int = 0

    @property
    def text(self) -> str:
        arg = f'"{self.pattern}"' if (not self.pattern or " " in self.pattern) else self.pattern
        inner = f"{'!' if self.negated else ''}{self.key}:{arg}"
        if self.offset < 0:
            return f"[ {inner} ] |"
        if self.offset > 0:
            return f"| [ {inner} ]"
        return inner


@dataclass(frozen=True, slots=True)
class Action:
    name: str  # "app", "group", "prefix", "sentinel" or a variable name
    flag: bool | None = None  # for flag actions
    range: str | None = None  # None, "up" (towards the crash) or "down"
    value: str | int | bool | None = None  # for variable actions

    @property
    def is_flag(self) -> bool:
        return self.flag is not None

    @property
    def text(self) -> str:
        if self.flag is None:
            value = self.value
            if isinstance(value, bool):
                value = "1" if value else "0"
            return f"{self.name}={value}"
        prefix = {"up": "^", "down": "v"}.get(self.range or "", "")
        return f"{prefix}{'+' if self.flag else '-'}{self.name}"


@dataclass(frozen=True, slots=True)
class EnhancementRule:
    matchers: tuple[Matcher, ...]
    actions: tuple[Action, ...]
    builtin: bool = False

    @property
    def text(self) -> str:
        parts = [m.text for m in self.matchers] + [a.text for a in self.actions]
        return " ".join(parts)


def bool_from_string(value: str) -> bool | None:
    lowered = value.lower()
    if lowered in ("1", "yes", "true"):
        return True
    if lowered in ("0", "no", "false"):
        return False
    return None


def _strip_comment(line: str) -> str:
    """Drop a ``#`` comment that starts a line or follows whitespace outside quotes."""
    in_quotes = False
    prev = " "
    for idx, char in enumerate(line):
        if char == '"' and prev != "\\":
            in_quotes = not in_quotes
        elif char == "#" and not in_quotes and prev in " \t":
            return line[:idx]
        prev = char
    return line


class _LineParser:
    def __init__(self, text: str, lineno: int) -> None:
        self.text = text
        self.pos = 0
        self.lineno = lineno

    def error(self, message: str) -> RuleSyntaxError:
        context = self.text[self.pos : self.pos + 30]
        near = f' near "{context}"' if context else " at end of line"
        return RuleSyntaxError(self.lineno, f"{message}{near} (column {self.pos + 1})")

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def expect(self, token: str) -> None:
        self.skip_spaces()
        if not self.text.startswith(token, self.pos):
            raise self.error(f'expected "{token}"')
        self.pos += len(token)

    def at_end(self) -> bool:
        self.skip_spaces()
        return self.pos >= len(self.text)

    def parse_matcher(self, offset: int) -> Matcher:
        self.skip_spaces()
        negated = self.text.startswith("!", self.pos)
        if negated:
            self.pos += 1
        key_match = _KEY.match(self.text, self.pos)
        if key_match is None:
            raise self.error("expected a matcher such as stack.function:name")
        key = key_match.group(1) or key_match.group(2)
        if key not in MATCHER_KEYS:
            raise self.error(f'unknown matcher "{key}"')
        self.pos = key_match.end()
        if not self.text.startswith(":", self.pos):
            raise self.error(f'expected ":" after "{key}"')
        self.pos += 1
        pattern = self.parse_argument()
        canonical = MATCHER_KEYS[key]
        if canonical == "app" and bool_from_string(pattern) is None:
            raise self.error(f'"app:" takes yes or no, not "{pattern}"')
        if offset and canonical in EXCEPTION_KEYS:
            raise self.error("caller/callee matchers cannot test the exception")
        return Matcher(canonical, pattern, negated, offset)

    def parse_argument(self) -> str:
        quoted = _QUOTED.match(self.text, self.pos)
        if quoted is not None:
            self.pos = quoted.end()
            return _ESCAPE.sub(r"\1", quoted.group(1))
        if self.text.startswith('"', self.pos):
            raise self.error("unterminated quoted argument")
        plain = _UNQUOTED.match(self.text, self.pos)
        if plain is None:
            raise self.error("missing argument")
        self.pos = plain.end()
        return plain.group(0)

    def try_action(self) -> Action | None:
        flag = _FLAG_ACTION.match(self.text, self.pos)
        if flag is not None:
            name = flag.group(3)
            if name not in FLAG_NAMES:
                raise self.error(f'unknown action "{flag.group(0)}"')
            self.pos = flag.end()
            rng = {"^": "up", "v": "down"}.get(flag.group(1))
            return Action(name, flag=flag.group(2) == "+", range=rng)
        var = _VAR_ACTION.match(self.text, self.pos)
        if var is not None and var.group(1) in VAR_NAMES:
            action = _var_action(var.group(1), var.group(2))
            if action is None:
                raise self.error(f'invalid value "{var.group(2)}" for {var.group(1)}')
            self.pos = var.end()
            return action
        return None


def _var_action(name: str, raw: str) -> Action | None:
    if not _IDENT.match(raw):
        return None
    if name in ("max-frames", "min-frames"):
        return Action(name, value=int(raw)) if raw.isdigit() else None
    if name == "invert-stacktrace":
        flag = bool_from_string(raw)
        return None if flag is None else Action(name, value=flag)
    return Action(name, value=raw)


def parse_rule_line(text: str, lineno: int, builtin: bool = False) -> EnhancementRule | None:
    line = _strip_comment(text).strip()
    if not line:
        return None
    p = _LineParser(line, lineno)
    matchers: list[Matcher] = []
    if line.startswith("["):
        p.expect("[")
        matchers.append(p.parse_matcher(-1))
        p.expect("]")
        p.expect("|")
    actions: list[Action] = []
    callee_seen = False
    while not p.at_end():
        if p.text.startswith("|", p.pos):
            if callee_seen or actions or not any(m.offset == 0 for m in matchers):
                raise p.error('unexpected "|"')
            p.expect("|")
            p.expect("[")
            matchers.append(p.parse_matcher(1))
            p.expect("]")
            callee_seen = True
            continue
        action = p.try_action()
        if action is not None:
            actions.append(action)
            continue
        if actions or callee_seen:
            raise p.error("matchers must come before actions")
        matchers.append(p.parse_matcher(0))
    return _finish(p, matchers, actions, builtin)


def _finish(p: _LineParser, matchers: list[Matcher], actions: list[Action], builtin: bool) -> EnhancementRule:
    if not any(m.offset == 0 for m in matchers):
        raise p.error("a rule needs at least one frame matcher")
    if not actions:
        raise p.error("a rule needs at least one action (e.g. -app, +group, category=...)")
    return EnhancementRule(tuple(matchers), tuple(actions), builtin)


def parse_rules_text(text: str, builtin: bool = False) -> list[EnhancementRule]:
    if not isinstance(text, str):
        raise RuleSyntaxError(1, "rules must be text")
    rules: list[EnhancementRule] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        rule = parse_rule_line(line, lineno, builtin)
        if rule is not None:
            rules.append(rule)
    return rules
