"""In-string patterns, whatever the key: credentials after an HTTP auth scheme word, URL passwords,
card numbers (cards.py) and ``name=value`` fragments whose name is sensitive. Only the secret part of
a string is replaced; ``scrub_text`` remembers strings found clean."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from .cards import CARD_GATE_RE, card_candidate, card_spans
from .config import DEFAULT_SCRUB_CONFIG, FILTERED, FILTERED_LEN, RULE_BEARER, RULE_URLAUTH
from .keys import PLAIN, RULE_FOR_CODE, SAFE, Classifier, classifier_for

# scheme://user:password@ -- the password is group "pw".  The password may contain "@" (the last
# "@" before the path wins) but no "/", whitespace, quotes or backslashes.
_URL_AUTH_RE = re.compile(r"//[^:@/\s'\"\\]*:(?P<pw>[^/\s'\"\\]*)@")

# HTTP auth schemes followed by their credentials.
_SCHEME_WORDS = frozenset({"bearer", "token", "basic"})
_AUTH_RE = re.compile(r"(?i)(?<![A-Za-z0-9])(bearer|token|basic)[ \t]+([A-Za-z0-9\-._~+/]+=*)")

# name=value / 'name': value / "name": value with a sensitive name.  Found from the separators:
# the name is matched backwards on the reversed string (quoted, or a bare run of name characters
# that may be followed by blanks), the value forwards: "[Filtered]" (already scrubbed), single-
# or double-quoted (optionally with a b/r/u/f prefix), or a bare run of characters.
_REV_NAME_RE = re.compile(r"""[ \t]*(?:(?P<q>['"])(?P<qn>[^'"\\\n]{1,64})(?P=q)|(?P<bn>[\w.\-]{1,64}))""")
_VALUE_RE = re.compile(
    r"""
    [ \t]*
    (?:
        (?P<done>\[Filtered\])
      | [bBrRuUfF]{0,2}'(?P<sq>[^'\\\n]*(?:\\.[^'\\\n]*)*)'
      | [bBrRuUfF]{0,2}"(?P<dq>[^"\\\n]*(?:\\.[^"\\\n]*)*)"
      | (?P<bare>[^\s&,;()\[\]{}'"\#<>]+)
    )
    """,
    re.VERBOSE,
)
_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")


def _token_shaped(word: str) -> bool:
    """After "Token" or "Basic" a word is taken for a credential when it looks like one: long, with
    a digit (so "token expired" or "basic authentication failed" stay readable)."""
    return len(word) >= 16 and any(c.isdigit() for c in word)


def _basic_credentials(token: str) -> bool:
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in raw


def needs_scan(s: str) -> bool:
    """Cheap test whether any in-string pattern could match (mirrored inline in ``walk``)."""
    return (
        "@" in s
        or "=" in s
        or '":' in s
        or "':" in s
        or (
            (" " in s or "\t" in s)
            and ("earer" in s or "oken" in s or "asic" in s or "EARER" in s or "OKEN" in s or "ASIC" in s)
        )
        or (len(s) >= 13 and card_candidate(s))
    )


def _kv_spans(s: str, cls: Classifier, out: list[tuple[int, int, str]]) -> None:
    """``name=value`` / ``'name': value`` fragments whose name is sensitive."""
    seps: list[int] = []
    for sep in ("=", '":', "':"):
        i = s.find(sep)
        while i >= 0:
            seps.append(i if sep == "=" else i + 1)
            i = s.find(sep, i + 1)
    if not seps:
        return
    rev = s[::-1]
    last = len(s) - 1
    classify = cls.classify
    for p in seps:
        if s[p] == "=":
            nxt = s[p + 1 : p + 2]
            if nxt == "=" or (p and s[p - 1] in "=!<>"):  # a comparison, not an assignment
                continue
        m = _REV_NAME_RE.match(rev, last - p + 1)
        if m is None:
            continue
        qn = m.group("qn")
        if qn is not None:
            name = qn[::-1]
        else:
            if s[p] != "=":  # a bare name only counts before "="
                continue
            name = m.group("bn")[::-1]
            if name[0] not in _NAME_START:
                continue
        code = classify(name)
        if code == PLAIN or code == SAFE:
            continue
        v = _VALUE_RE.match(s, p + 1)
        if v is None or v.group("done") is not None:
            continue
        g = "sq" if v.group("sq") is not None else "dq" if v.group("dq") is not None else "bare"
        a, b = v.span(g)
        if a < b and s[a:b] != FILTERED:
            out.append((a, b, RULE_FOR_CODE[code]))


def _find_spans(s: str, cls: Classifier) -> list[tuple[int, int, str]] | None:
    """Spans ``(start, end, rule)`` of secrets inside ``s``, or None (the common case)."""
    spans: list[tuple[int, int, str]] | None = None
    m: re.Match[str] | None
    if "@" in s and "//" in s:
        for m in _URL_AUTH_RE.finditer(s):
            pw = m.group("pw")
            if pw and pw != FILTERED:
                if spans is None:
                    spans = []
                spans.append((m.start("pw"), m.end("pw"), RULE_URLAUTH))
    if (" " in s or "\t" in s) and (
        "earer" in s or "oken" in s or "asic" in s or "EARER" in s or "OKEN" in s or "ASIC" in s
    ):
        pos = 0
        while (m := _AUTH_RE.search(s, pos)) is not None:
            # A refused "credential" may itself be a scheme word ("token Bearer <secret>"): look
            # again from it instead of past it, so overlapping candidates are all tried.
            pos = m.start(2)
            scheme = m.group(1).lower()
            tok = m.group(2)
            if tok.lower() in _SCHEME_WORDS:
                ok = False  # "Bearer Token abc...": the credential comes after the last scheme word
            elif scheme == "bearer":
                ok = True
            elif scheme == "token":
                ok = _token_shaped(tok)
            else:  # Basic: encoded credentials, or a token-shaped word ("basic plan" stays)
                ok = (len(tok) >= 8 and _basic_credentials(tok)) or _token_shaped(tok)
            if ok:
                pos = m.end(2)
                if spans is None:
                    spans = []
                spans.append((m.start(2), m.end(2), RULE_BEARER))
    if len(s) >= 13 and card_candidate(s) and CARD_GATE_RE.search(s) is not None:
        found: list[tuple[int, int, str]] = []
        card_spans(s, found)
        if found:
            if spans is None:
                spans = found
            else:
                spans.extend(found)
    if "=" in s or '":' in s or "':" in s:
        found_kv: list[tuple[int, int, str]] = []
        _kv_spans(s, cls, found_kv)
        if found_kv:
            if spans is None:
                spans = found_kv
            else:
                spans.extend(found_kv)
    return spans


def _apply_spans(s: str, spans: list[tuple[int, int, str]]) -> tuple[str, list[list[Any]]]:
    """Replace the (possibly overlapping) spans; returns the new string and its ``rem`` entries."""
    if len(spans) > 1:
        spans.sort(key=lambda sp: (sp[0], -sp[1]))
    parts: list[str] = []
    rems: list[list[Any]] = []
    pos = 0
    out_len = 0
    for a, b, rule in spans:
        if a < pos:  # overlaps the span just replaced: widen it
            if b > pos:
                pos = b
            continue
        chunk = s[pos:a]
        parts.append(chunk)
        out_len += len(chunk)
        parts.append(FILTERED)
        rems.append([rule, "s", out_len, out_len + FILTERED_LEN])
        out_len += FILTERED_LEN
        pos = b
    parts.append(s[pos:])
    return "".join(parts), rems


def scrub_text(s: str, cls: Classifier) -> tuple[str, list[list[Any]]] | None:
    clean = cls.clean
    if s in clean:
        return None
    spans = _find_spans(s, cls)
    if not spans:
        if len(s) <= Classifier.MAX_CLEAN_LEN:
            if len(clean) >= Classifier.MAX_CLEAN:
                clean.clear()
            clean.add(s)
        return None
    new, rems = _apply_spans(s, spans)
    if new == s:
        return None
    return new, rems


def scrub_string(value: str) -> str:
    """Apply only the in-string patterns (bearer/token/basic credentials, URL passwords, card
    numbers, ``name=value`` fragments with a sensitive name) to one string."""
    if type(value) is not str:
        return value
    res = scrub_text(value, classifier_for(DEFAULT_SCRUB_CONFIG))
    return value if res is None else res[0]
