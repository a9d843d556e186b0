"""Sentry's issue search syntax, parsed without Django: the text of the search bar (and of the API's
`query=`) becomes a list of Terms that issues/search.py compiles into database conditions.

    is:unresolved assigned:me level:[error,fatal] !environment:staging firstSeen:-24h
    timesSeen:>100 customer_tier:gold tags[browser]:"Chrome 120" WEB-12 "connection reset"

Every mistake is a SearchError with a message for a person (an unknown `is:` value, a date or a number
that is not one, a comparison on a key that has none), never a term that silently matches nothing.
Bounded: at most MAX_TERMS terms, values of at most MAX_VALUE_LENGTH characters, lists of at most
MAX_LIST_VALUES values, a query of at most MAX_QUERY_LENGTH characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MAX_QUERY_LENGTH = 10_000
MAX_TERMS = 20
MAX_VALUE_LENGTH = 200
MAX_LIST_VALUES = 20


class SearchError(ValueError):
    """A query that cannot run: shown under the search bar, a 400 in the API."""


# `is:` values and what they mean; LightTrace has no issue-tracker links.
IS_VALUES = frozenset(
    {
        "unresolved", "resolved", "ignored", "archived", "muted", "assigned", "unassigned", "for_review",
        "bookmarked", "regressed", "escalating", "new", "ongoing", "unread", "read",
    }
)  # fmt: skip
IS_REFUSED = {
    "linked": "LightTrace has no links to issue trackers, so is:linked cannot be answered",
    "unlinked": "LightTrace has no links to issue trackers, so is:unlinked cannot be answered",
}
# Keys with a meaning of their own (Sentry's spellings first, then the aliases it also accepts).
ALIASES = {
    "first_seen": "firstSeen",
    "last_seen": "lastSeen",
    "times_seen": "timesSeen",
    "first_release": "firstRelease",
    "firstrelease": "firstRelease",
    "firstseen": "firstSeen",
    "lastseen": "lastSeen",
    "timesseen": "timesSeen",
    "userCount": "users",
    "user_count": "users",
    "user.ip_address": "user.ip",
    "bookmarked_by": "bookmarks",
    "trace.id": "trace",
    "trace_id": "trace",
}
LEVELS = ("fatal", "error", "warning", "info", "debug")
DATE_KEYS = frozenset({"age", "firstSeen", "lastSeen"})
NUMBER_KEYS = frozenset({"timesSeen", "users"})
TEXT_KEYS = frozenset({"error.type", "error.value", "message", "title", "culprit"})
USER_KEYS = frozenset({"user.id", "user.email", "user.username", "user.ip"})
FIELD_KEYS = frozenset({"is", "assigned", "bookmarks", "has", "issue", "level", "environment", "release"})
FIELD_KEYS = FIELD_KEYS | {"firstRelease", "trace"} | TEXT_KEYS | USER_KEYS
REFUSED_KEYS = {
    "assigned_or_suggested": "assigned_or_suggested: LightTrace has no suggested owners; use assigned:",
    "issue.priority": "issue.priority: LightTrace's priority follows the level; search level: instead",
    "issue.category": "issue.category: LightTrace has error issues only",
}
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_OPERATORS = (">=", "<=", ">", "<", "=")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<neg>!)?(?P<key>tags\[[^\]\s]{1,200}\]|[A-Za-z_][\w.\-]*):
            (?P<value>"(?:[^"\\]|\\.)*"?|\[[^\]]*\]?|\S*)
      | (?P<quoted>"(?:[^"\\]|\\.)*"?)
      | (?P<word>\S+)
    )""",
    re.VERBOSE,
)
SHORT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*-\d{1,18}$")


@dataclass(frozen=True)
class Term:
    """One condition. `key` is a canonical key of FIELD_KEYS, DATE_KEYS or NUMBER_KEYS, `tag` (an
    event tag, named by `tag_key`), `text` (free text) or `short_id`. Dates carry `when` and numbers
    `number`, with `op` the comparison on the issue's column (`>=`: at or after / at least)."""

    key: str
    values: tuple[str, ...] = ()
    negated: bool = False
    tag_key: str = ""
    op: str = "="
    when: datetime | None = None
    number: int | None = None


def parse(query: str, now: datetime | None = None) -> list[Term]:
    """The terms of `query`; free text words are joined into one `text` term, as Sentry does."""
    if len(query) > MAX_QUERY_LENGTH:
        raise SearchError(f"a search is at most {MAX_QUERY_LENGTH} characters long")
    now = now or datetime.now(UTC)
    terms: list[Term] = []
    words: list[str] = []
    for match in _TOKEN.finditer(query):
        if match.group("key") is not None:
            value = match.group("value")
            terms.append(_keyed(match.group("key"), value, bool(match.group("neg")), now))
        elif match.group("quoted") is not None:
            words.append(_unquote(match.group("quoted")))
        elif match.group("word"):
            word = match.group("word")
            if SHORT_ID.match(word):
                terms.append(Term("short_id", (word.upper(),)))
            else:
                words.append(word)
        if len(terms) + len(words) > MAX_TERMS:
            raise SearchError(f"a search takes at most {MAX_TERMS} terms")
    text = " ".join(w for w in words if w)
    if text:
        terms.append(Term("text", (_bounded("free text", text),)))
    return terms


def _keyed(raw_key: str, raw_value: str, negated: bool, now: datetime) -> Term:
    key = ALIASES.get(raw_key, raw_key)
    if key in REFUSED_KEYS:
        raise SearchError(REFUSED_KEYS[key])
    if raw_value == "":
        raise SearchError(f"{raw_key}: needs a value, e.g. {raw_key}:something")
    if key in DATE_KEYS:
        op, when = parse_date(raw_key, _unquote(raw_value), now)
        return Term(key, negated=negated, op=op, when=when)
    if key in NUMBER_KEYS:
        op, number = parse_number(raw_key, _unquote(raw_value))
        return Term(key, negated=negated, op=op, number=number)
    if raw_value[:1] in ("<", ">"):
        raise SearchError(
            f"{raw_key}: compares by equality; > and < work on timesSeen, users, firstSeen, lastSeen and age "
            f'(quote a value that starts with one: {raw_key}:"{raw_value[:20]}")'
        )
    values = _values(raw_key, raw_value)
    if key == "is":
        return Term("is", tuple(_is_value(v) for v in values), negated)
    if key == "has":
        return Term("has", tuple(_tag_name(v) for v in values), negated)
    if key == "trace":
        return Term("trace", tuple(_trace_id(v) for v in values), negated)
    if key == "level":
        return Term("level", tuple(_level(v) for v in values), negated)
    if key in FIELD_KEYS:
        return Term(key, values, negated)
    return Term("tag", values, negated, tag_key=_tag_name(raw_key))


def _values(key: str, raw: str) -> tuple[str, ...]:
    if raw.startswith("["):
        if not raw.endswith("]"):
            raise SearchError(f"{key}: a list of values needs a closing ], e.g. {key}:[a,b]")
        items = [_unquote(v.strip()) for v in raw[1:-1].split(",")]
        if not any(items) or "" in items:
            raise SearchError(f"{key}: a list needs values separated by commas, e.g. {key}:[a,b]")
        if len(items) > MAX_LIST_VALUES:
            raise SearchError(f"{key}: a list takes at most {MAX_LIST_VALUES} values")
    else:
        items = [_unquote(raw)]
    if items == [""]:
        raise SearchError(f"{key}: needs a value")
    return tuple(_bounded(key, v) for v in items)


def _bounded(key: str, value: str) -> str:
    if len(value) > MAX_VALUE_LENGTH:
        raise SearchError(f"{key}: a value is at most {MAX_VALUE_LENGTH} characters long")
    return value


def _unquote(raw: str) -> str:
    if raw.startswith('"'):
        if len(raw) < 2 or not raw.endswith('"') or raw.endswith('\\"') and not raw.endswith('\\\\"'):
            raise SearchError(f"a quoted value needs a closing quote: {raw[:40]}")
        return re.sub(r"\\(.)", r"\1", raw[1:-1])
    return raw


def _is_value(value: str) -> str:
    lowered = value.lower()
    if lowered in IS_REFUSED:
        raise SearchError(IS_REFUSED[lowered])
    if lowered not in IS_VALUES:
        known = ", ".join(sorted(IS_VALUES))
        raise SearchError(f"is:{value} is not a status LightTrace knows; use one of {known}")
    return {"archived": "ignored", "muted": "ignored"}.get(lowered, lowered)


def _level(value: str) -> str:
    if value.lower() not in LEVELS:
        raise SearchError(f"level:{value} is not a level; use one of {', '.join(LEVELS)}")
    return value.lower()


def _trace_id(value: str) -> str:
    # Stored as the batch writer keeps it: 32 lowercase hexadecimal digits, without dashes.
    trace = value.replace("-", "").lower()
    if len(trace) != 32 or trace.strip("0123456789abcdef"):
        raise SearchError("trace: takes a trace id of 32 hexadecimal digits")
    return trace


def _tag_name(key: str) -> str:
    name = key[5:-1] if key.startswith("tags[") and key.endswith("]") else key
    if not name or len(name) > MAX_VALUE_LENGTH:
        raise SearchError(f"{key}: not a tag name")
    return name


def parse_number(key: str, raw: str) -> tuple[str, int]:
    """`100`, `>100`, `>=100`, `<5`, `<=5`, with Sentry's `k`/`m` suffixes (`>1k`)."""
    op, text = _operator(raw)
    match = re.fullmatch(r"(\d{1,15})([kKmM]?)", text)
    if match is None:
        raise SearchError(f"{key}: {raw!r} is not a number; write e.g. {key}:>100")
    factor = {"": 1, "k": 1000, "m": 1_000_000}[match.group(2).lower()]
    return op, int(match.group(1)) * factor


def parse_date(key: str, raw: str, now: datetime) -> tuple[str, datetime]:
    """`-24h` (within the last 24 hours), `+7d` (more than 7 days ago), `>2026-01-01`,
    `<=2026-01-01T12:00:00`, `2026-01-01` (since that day). Returns the comparison on the column and the
    moment; a bare date means from that day's start (`>=`)."""
    op, text = _operator(raw)
    relative = re.fullmatch(r"([+-])(\d{1,6})([smhdw])", text)
    if relative is not None:
        if op != "=":
            raise SearchError(f"{key}: a relative time takes no operator: {key}:-24h or {key}:+7d")
        amount = timedelta(**{_UNITS[relative.group(3)]: int(relative.group(2))})
        if amount > timedelta(days=36500):
            raise SearchError(f"{key}: {raw!r} is too far back")
        return (">=" if relative.group(1) == "-" else "<"), now - amount
    when = _absolute(text)
    if when is None:
        raise SearchError(
            f"{key}: {raw!r} is not a time; write e.g. {key}:-24h, {key}:+7d, {key}:>2026-01-01 "
            f"or {key}:<2026-01-01T12:00:00"
        )
    return (">=" if op == "=" else op), when


def _absolute(text: str) -> datetime | None:
    if not re.fullmatch(
        r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?", text
    ):
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _operator(raw: str) -> tuple[str, str]:
    for op in _OPERATORS:
        if raw.startswith(op):
            rest = raw[len(op) :]
            if rest[:1] in ("<", ">", "=", "!"):
                raise SearchError(f"{raw!r}: not a comparison; use >, >=, <, <= or none")
            return op, rest
    if raw.startswith("!"):
        raise SearchError(f"{raw!r}: not a comparison; to negate, write ! before the key: !key:value")
    return "=", raw
