"""Log search in Sentry's syntax, parsed to a list of terms. Pure: no Django, no SQL.

trace:ID (also trace_id:, trace.id:)       level:error (also severity:), level:warn,error
user.id: / user.email: / user.username:    release:  environment:
any attribute key:value (typed: `order_id:42` matches the integer 42 or the string "42")
key:>N  key:>=N  key:<N  key:<=N          !key:value (negation)
"a quoted phrase"  bare words              full-text on the body (every word must occur)
key:"quoted value"  key:*partial*         (`*` matches any text in string values)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Every term is one more condition for the database: an unbounded list is a way to stall it.
MAX_TERMS = 20
MAX_TERM_CHARS = 200
MAX_QUERY_CHARS = 2000

LEVELS = ("trace", "debug", "info", "warn", "error", "fatal")
_LEVEL_ALIASES = {"warning": "warn", "critical": "fatal", "err": "error"}
_TRACE_KEYS = {"trace", "trace_id", "trace.id"}
_LEVEL_KEYS = {"level", "severity", "severity_text"}
# Sentry's search keys for facts the SDKs send as attributes under other names.
_ATTRIBUTE_ALIASES: dict[str, tuple[str, ...]] = {
    "release": ("sentry.release",),
    "environment": ("sentry.environment",),
    "user.username": ("user.name", "user.username"),
    "user.name": ("user.name", "user.username"),
    "message.template": ("sentry.message.template",),
    "template": ("sentry.message.template",),
    "sdk.name": ("sentry.sdk.name",),
    "origin": ("sentry.origin",),
    "server.address": ("server.address",),
}
_BODY_KEYS = {"message", "body"}
_KEY = re.compile(r"[A-Za-z_@][A-Za-z0-9_.\-@/\[\]]*\Z")
_TOKEN = re.compile(r'(!?)(?:([^\s:"]+):)?("(?:[^"\\]|\\.)*"?|[^\s"]*)|(\S)')
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?\Z")
_OPERATORS = (">=", "<=", ">", "<")

Value = str | int | float | bool


class SearchError(ValueError):
    """A query that cannot run: a message under the search bar, a 400 in the API."""


@dataclass(frozen=True)
class TraceTerm:
    trace_id: str
    negated: bool = False


@dataclass(frozen=True)
class LevelTerm:
    levels: tuple[str, ...]
    negated: bool = False


@dataclass(frozen=True)
class AttributeTerm:
    """The attribute under any of `keys` equals one of `values` (each of its own JSON type), or,
    with `pattern`, is a string matching it (`*` = any text)."""

    keys: tuple[str, ...]
    values: tuple[Value, ...] = ()
    pattern: str | None = None
    negated: bool = False


@dataclass(frozen=True)
class CompareTerm:
    """A numeric attribute (integer or double) compared with a number; `severity_number` is a column."""

    key: str
    operator: str
    number: float
    negated: bool = False


@dataclass(frozen=True)
class TextTerm:
    """Case-insensitive substring of the body."""

    text: str
    negated: bool = False


Term = TraceTerm | LevelTerm | AttributeTerm | CompareTerm | TextTerm


def parse_query(query: str | None) -> list[Term]:
    query = (query or "").strip()
    if len(query) > MAX_QUERY_CHARS:
        raise SearchError(f"a search is at most {MAX_QUERY_CHARS} characters")
    terms: list[Term] = []
    for match in _TOKEN.finditer(query):
        if not match.group(0):
            continue  # the empty match between two tokens
        bang, key, raw, stray = match.groups()
        if stray is not None:
            raise SearchError(f"unexpected {stray!r} in the search")
        if len(raw) > MAX_TERM_CHARS:
            raise SearchError(f"a search term is at most {MAX_TERM_CHARS} characters")
        terms.append(_term(key, raw, negated=bool(bang)))
        if len(terms) > MAX_TERMS:
            raise SearchError(f"a search takes at most {MAX_TERMS} terms")
    return terms


def _unquote(raw: str) -> tuple[str, bool]:
    if raw.startswith('"'):
        if len(raw) < 2 or not raw.endswith('"') or raw.endswith('\\"'):
            raise SearchError("a quoted phrase is missing its closing quote")
        return re.sub(r"\\(.)", r"\1", raw[1:-1]), True
    return raw, False


def _term(key: str | None, raw: str, negated: bool) -> Term:
    value, quoted = _unquote(raw)
    if key is None:
        if not value:
            raise SearchError("an empty phrase matches nothing")
        return TextTerm(value, negated)
    lowered = key.lower()
    if not value:
        raise SearchError(f"{key}: needs a value")
    if lowered in _TRACE_KEYS:
        return TraceTerm(_trace_id(value), negated)
    if lowered in _LEVEL_KEYS:
        return LevelTerm(_levels(value), negated)
    if lowered in _BODY_KEYS:
        return TextTerm(value, negated)
    if not _KEY.match(key):
        raise SearchError(f"{key!r} is not an attribute name")
    if not quoted and value.startswith(_OPERATORS):
        return _comparison(key, value, negated)
    keys = _ATTRIBUTE_ALIASES.get(lowered, (key,))
    if not quoted and "*" in value:
        return AttributeTerm(keys, pattern=value, negated=negated)
    return AttributeTerm(keys, typed_values(value, quoted), negated=negated)


def _trace_id(value: str) -> str:
    trace_id = value.replace("-", "").lower()
    if len(trace_id) != 32 or trace_id.strip("0123456789abcdef"):
        raise SearchError("trace: takes a trace id of 32 hexadecimal characters")
    return trace_id


def _levels(value: str) -> tuple[str, ...]:
    levels = []
    for part in value.lower().split(","):
        level = _LEVEL_ALIASES.get(part, part)
        if level not in LEVELS:
            raise SearchError(f"unknown level {part!r}; levels are {', '.join(LEVELS)}")
        levels.append(level)
    return tuple(levels)


def _comparison(key: str, value: str, negated: bool) -> CompareTerm:
    operator = next(op for op in _OPERATORS if value.startswith(op))
    number = value[len(operator) :]
    if not _NUMBER.match(number):
        raise SearchError(f"{key}:{operator} needs a number, not {number!r}")
    return CompareTerm(key, operator, float(number), negated)


def typed_values(value: str, quoted: bool) -> tuple[Value, ...]:
    """An attribute matches under its own type: 42 the integer (or double) 42 and the string "42";
    true the boolean and the string. A quoted value is a string only."""
    if quoted:
        return (value,)
    if value.lower() in ("true", "false"):
        return (value.lower() == "true", value)
    if _NUMBER.match(value):
        number = float(value)
        if number.is_integer() and abs(number) < 2**63 and "." not in value and "e" not in value.lower():
            return (int(value), value)
        return (number, value)
    return (value,)
