"""Message and exception-value normalisation ("parameterisation").

Variable parts of a message (numbers, ids, addresses, dates, ...) are replaced
by ``<kind>`` placeholders so that ``Order 17 not found`` and ``Order 18 not
found`` group together.  Only the first two non-empty lines are kept.

The placeholder kinds are tried in a fixed order at each position of the text
(earlier kinds win), which is part of the grouping config's contract.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from .glob import literal_alternation

_DAY = r"(?:Sun|Mon|Tue|Wed|Thu|Fri|Sat)"
_LONG_DAY = r"(?:Sun|Sunday|Mon|Monday|Tue|Tuesday|Wed|Wednesday|Thu|Thursday|Fri|Friday|Sat|Saturday)"
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_ZONE = r"(?:[-+]\d{2}[0-5]\d|UT|GMT|[ECMP][SD]T|[A-IK-Z])"
_NAMED_ZONE = r"(?:UT|GMT|[ECMP][SD]T|[A-IK-Z])"
_TLDS = (
    "com|net|org|jp|de|uk|fr|br|it|ru|es|me|gov|pl|ca|au|cn|co|in|nl|edu|info|eu|ch|id|at|kr|cz|mx|be|"
    "tv|se|tr|tw|al|ua|ir|vn|cl|sk|ly|cc|to|no|fi|us|pt|dk|ar|hu|tk|gr|il|news|ro|my|biz|ie|za|nz|sg|ee|"
    "th|io|xyz|pe|bg|hk|rs|lt|link|ph|club|si|site|mobi|by|cat|wiki|la|ga|xxx|cf|hr|ng|jobs|online|kz|ug|"
    "gq|ae|is|lv|pro|fm|tips|ms|sa|app"
)
_LOCAL = r"[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]"


# (followed by a word boundary, at most one TLD can match at a place, so a
# prefix tree matches exactly what the plain alternation would)
_TLD_TRIE = f"(?:{literal_alternation(_TLDS.split('|') + _TLDS.upper().split('|'))})"
_IPV4 = r"(?:(?:25[0-5]|(?:2[0-4]|1?[0-9])?[0-9])\.){3}(?:25[0-5]|(?:2[0-4]|1?[0-9])?[0-9])"
_H = "[0-9a-fA-F]{1,4}"
_IPV6 = (
    rf"(?:(?:{_H}:){{7}}{_H}|(?:{_H}:){{1,7}}:|(?:{_H}:){{1,6}}:{_H}|(?:{_H}:){{1,5}}(?::{_H}){{1,2}}"
    rf"|(?:{_H}:){{1,4}}(?::{_H}){{1,3}}|(?:{_H}:){{1,3}}(?::{_H}){{1,4}}|(?:{_H}:){{1,2}}(?::{_H}){{1,5}}"
    rf"|{_H}:(?:(?::{_H}){{1,6}})|:(?:(?::{_H}){{1,7}}|:)|fe80:(?::[0-9a-fA-F]{{0,4}}){{0,4}}%[0-9a-zA-Z]+"
    rf"|::(?:ffff(?::0{{1,4}})?:)?{_IPV4}|(?:{_H}:){{1,4}}:{_IPV4}\b)"
)
_DT_TZ = r"\d{4}-?[01]\d-?[0-3]\d[\sT][0-2]\d:?[0-5]\d"
_DATE = "|".join(
    (
        rf"{_DAY},\s\d{{1,2}}\s{_MONTH}\s\d{{2,4}}\s\d{{1,2}}:\d{{1,2}}(?::\d{{1,2}})?\s{_ZONE}",
        rf"(?:{_DAY}\s)?{_MONTH}\s[0-3]\d,\s\d{{2,4}}",
        rf"{_LONG_DAY},\s\d{{2}}-{_MONTH}-\d{{2}}\s\d{{2}}:\d{{2}}:\d{{2}}\s{_NAMED_ZONE}",
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?(?:[+-]?\d{2}:\d{2})?",
        rf"{_DAY}\s{_MONTH}\s\d{{2}}\s\d{{4}}\s\d{{2}}:\d{{2}}:\d{{2}}\sGMT[+-]\d{{4}}(?:\s\([^)]+\))?",
        rf"{_DT_TZ}:?[0-5]\d\.\d+(?:[+-][0-2]\d:?[0-5]\d|Z)",
        rf"{_DT_TZ}:?[0-5]\d(?:[+-][0-2]\d:?[0-5]\d|Z)",
        rf"{_DT_TZ}(?:[+-][0-2]\d:?[0-5]\d|Z)",
        rf"{_DT_TZ}:?[0-5]\d\.\d+",
        rf"{_DT_TZ}:?[0-5]\d",
        _DT_TZ,
        r"(?<!\d)(?:[1-9]|1[0-2]):[0-5]\d(?::[0-5]\d)?(?![\d:])(?:\s?[aApP][Mm])?",
        r"(?<!\d)(?:0?\d|1\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?![\d:])",
        r"\d{4}-[01]\d-[0-3]\d",
        r"[0-2]\d:[0-5]\d:[0-5]\d",
        rf"\b(?:{_DAY}\s+)?{_MONTH}\s+\d{{1,2}}\s+\d{{2}}:\d{{2}}:\d{{2}}\s+\d{{4}}",
        rf"\b(?:{_DAY},\s+)?(?:0[1-9]|[1-2]?\d|3[01])\s+{_MONTH}\s+(?:19\d{{2}}|[2-9]\d{{3}})\s+"
        rf"(?:2[0-3]|[0-1]\d):[0-5]\d(?::(?:60|[0-5]\d))?\s+{_ZONE}",
        r"datetime.datetime\(.*?\)",
    )
)
# A 4-6 character hex word must mix letters and digits.  The look-aheads only
# need to look as far as the word can reach, which keeps long runs linear.
_HEX_BODY = (
    r"(?=[a-f]{0,5}[0-9])(?=[0-9]{0,5}[a-f])[0-9a-f]{4,6}|(?=[A-F]{0,5}[0-9])(?=[0-9]{0,5}[A-F])[0-9A-F]{4,6}"
    r"|[0-9a-f]{8,128}|[0-9A-F]{8,128}"
)

# (placeholder name, pattern) in priority order
PATTERNS: tuple[tuple[str, str], ...] = (
    # Not starting inside a run of address characters only skips attempts that
    # would have matched one position earlier; it keeps long runs linear.
    ("email", rf"(?<!{_LOCAL})(?:{_LOCAL})+@[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*"),
    ("url", r"\b(?:wss?|https?|ftp)://[^\s/$.?#].[^\s]*"),
    # (a DNS name has at most 127 labels; the bound keeps dotted runs linear)
    ("hostname", rf"\b(?:[a-zA-Z0-9\-]{{1,63}}\.){{1,127}}?{_TLD_TRIE}\b"),
    ("ip", rf"(?<![0-9a-zA-Z_]){_IPV6}(?![0-9a-zA-Z])|\b{_IPV4}\b"),
    ("traceparent", r"\b00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]\b|\b1-[0-9a-f]{8}-[0-9a-f]{24}\b"),
    ("uuid", r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
    ("sha1", r"\b[0-9a-fA-F]{40}\b"),
    ("md5", r"\b[0-9a-fA-F]{32}\b"),
    # the (?=...) guards only name the characters a match can start with; they
    # spare the regex engine from trying every alternative at every position
    ("date", rf"(?=[0-9SMTWFJAONDd])(?:{_DATE})"),
    ("duration", r"(?=\d)(?:\b\d+ms|(?<!\d)\d+(?:\.\d+)?s\b)"),
    ("swift_txn_id", r"\btx[0-9a-f]{21}-[0-9a-f]{10}\S*"),
    ("hex", rf"(?=[0-9a-fA-F-])(?:\b0[xX][0-9a-fA-F]+\b|(?:\b|(?<!\w)-)(?:{_HEX_BODY})\b)"),
    ("git_sha", r"\b(?=[a-f]{0,6}[0-9])(?=[0-9]{0,6}[a-f])[0-9a-f]{7}\b"),
    ("float", r"-\d+\.\d+\b|\b\d+\.\d+\b"),
    ("int", r"(?=[0-9-])(?:\b|(?<!\w)-)\d{1,7}\b"),
    ("quoted_str", r"(?<==)(?:'[^']+'|\"[^\"]+\")"),
    ("bool", r"(?<==)(?:True|true|False|false)"),
)

# A pattern can only match when its text contains certain characters.  Leaving
# out the patterns that cannot match keeps the result identical (alternatives
# are tried in order at each position) and makes the common case much faster.
_HEX_RUN_32 = re.compile(r"[0-9a-fA-F]{32}")
_DIGIT = re.compile(r"[0-9]")
_LETTER_HEX_RUN = re.compile(r"[a-fA-F]{8}")
_DOT_TLD = re.compile(rf"\.{_TLD_TRIE}\b")
_DURATION_HINT = re.compile(r"\dm?s")
_NEEDS: dict[str, Callable[[str], bool]] = {
    "email": lambda t: "@" in t,
    "url": lambda t: "://" in t,
    "hostname": lambda t: _DOT_TLD.search(t) is not None,
    "duration": lambda t: _DURATION_HINT.search(t) is not None,
    "ip": lambda t: ":" in t or "." in t,
    "traceparent": lambda t: "-" in t,
    "uuid": lambda t: "-" in t,
    "sha1": lambda t: _HEX_RUN_32.search(t) is not None,
    "md5": lambda t: _HEX_RUN_32.search(t) is not None,
    "swift_txn_id": lambda t: "tx" in t,
    "float": lambda t: "." in t,
    "date": lambda t: _DIGIT.search(t) is not None or "datetime" in t,
    "quoted_str": lambda t: "=" in t,
    "bool": lambda t: "=" in t,
}


@lru_cache(maxsize=256)
def _combined(names: tuple[str, ...]) -> re.Pattern[str]:
    lookup = dict(PATTERNS)
    return re.compile("|".join(f"(?P<{name}>{lookup[name]})" for name in names))


def _placeholder(match: re.Match[str]) -> str:
    return f"<{match.lastgroup}>"


def parameterize(text: str) -> str:
    has_digit = _DIGIT.search(text) is not None
    names = []
    for name, _ in PATTERNS:
        need = _NEEDS.get(name)
        if need is not None:
            if need(text):
                names.append(name)
        elif has_digit or (name == "hex" and _LETTER_HEX_RUN.search(text) is not None):
            names.append(name)
    if not names:
        return text
    return _combined(tuple(names)).sub(_placeholder, text)


def trim_lines(message: str) -> str:
    """Keep the first two non-empty lines; mark the cut with ``...``."""
    kept: list[str] = []
    for line in message.splitlines():
        if line.strip():
            kept.append(line)
            if len(kept) == 2:
                break
    trimmed = "\n".join(kept)
    if trimmed != message:
        trimmed += "..."
    return trimmed


MAX_MESSAGE_CHARS = 8192
# Short messages repeat a lot (same error, same wording); long ones rarely do
# and would make the cache big, so only short ones are remembered.
_CACHED_MESSAGE_CHARS = 512


def normalize_message(message: str) -> str:
    """Trimmed and parameterised message, as used for grouping."""
    if len(message) <= _CACHED_MESSAGE_CHARS:
        return _normalize_cached(message)
    # Messages are capped like ingest caps them, which also bounds the work.
    return parameterize(trim_lines(message[:MAX_MESSAGE_CHARS]))


@lru_cache(maxsize=4096)
def _normalize_cached(message: str) -> str:
    return parameterize(trim_lines(message))


def clear_message_cache() -> None:
    _normalize_cached.cache_clear()
