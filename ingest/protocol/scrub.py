"""Privacy scrubbing of events and structured logs, run before anything is stored.

Pure Python, no Django.  Everything here works on the JSON-shaped dicts the
normaliser produces and mutates them in place.

What is scrubbed
----------------
* **Sensitive keys.**  A value whose key name looks sensitive is replaced by
  ``"[Filtered]"`` (a whole dict or list under such a key too).  Key names are
  compared case-insensitively, as substrings, with ``-``, ``_`` and ``.``
  ignored, so ``X-Api-Key``, ``apiKey``, ``http.request.header.authorization``
  and ``HTTP_COOKIE`` all match (``ssn``, ``otp``, ``sid``, ``su`` are matched
  against the words of the name so that ``className`` stays).  Key names are
  dict keys, the names of ``[name, value]`` pairs (headers, tags, cookies, query
  strings), cookie and form/query parameter names, log attribute names, and the
  field path of a processing error that quotes an invalid value.  ``None``,
  booleans, empty strings and empty containers are left alone: they hide
  nothing.  ``request.cookies`` itself is not a sensitive key: each cookie name
  is checked (the ``Cookie`` header is filtered whole).
* **In-string patterns** (any string, whatever its key): the token after
  ``Bearer`` / ``Token`` and ``Basic`` credentials (rule ``@bearer:filter``),
  the password of URL credentials (``@urlauth:filter``), Luhn-valid card
  numbers (``@creditcard:filter``: 13-19 digits starting with 2-6, in at most 8
  groups joined by single spaces or dashes), and ``name=value`` /
  ``'name': value`` fragments whose *name* is sensitive (query strings inside
  URLs, Python ``repr()`` of dicts and keyword arguments, JSON text).  Only the
  secret part goes; the rest of the string stays.
* ``request.query_string`` / ``request.data`` / ``request.cookies`` given as
  strings are parsed parameter by parameter (``request.data`` holding JSON text
  is parsed as JSON) and re-encoded with the non-sensitive parts untouched.
* With ``scrub_ip_addresses``: ``user.ip_address``, ``request.env.REMOTE_ADDR``,
  ``X-Forwarded-For`` / ``X-Real-IP`` / ``Forwarded`` headers and similar
  fields (``client.address``, ``sdk.client_ip``) are removed (``@ip:filter``).
* Project ``extra_fields`` are matched like the defaults (``@usersecret:filter``);
  ``safe_fields`` (exact names, normalised the same way) exempt a value and
  everything below it from every rule.

Source lines of stack frames (``pre_context``, ``context_line``,
``post_context``) get the in-string patterns like every other string: a secret hard-coded in the
code around a crash (``password = "..."``) would otherwise be stored. This is stricter than Sentry's
default, and deterministic, so grouping by context line stays stable.  Key names below ``modules`` and ``debug_meta`` are not
checked (they are package names and image paths).  Dict keys are never
rewritten.

Every replacement is recorded in ``_meta`` in Sentry's shape::

    {"request": {"headers": {"3": {"1": {"": {"rem": [["@password:filter", "s", 0, 10]],
                                               "len": 12}}}}}}

``rem`` entries are ``[rule_id, "s", start, end]`` (substituted; the range is
where ``[Filtered]`` now sits in the new string), ``[rule_id, "s"]`` (inside
re-serialised JSON text) or ``[rule_id, "x"]`` (removed); ``len`` is the
original length (characters of a string, items of a container).  Entries are
merged into any ``_meta`` the SDK sent; original values the SDK put in its
``_meta`` (``"val"``) are dropped.  Paths deeper than 200 levels, or through an
empty-string key, are scrubbed but not recorded.

Scrubbing is idempotent and never raises on JSON-shaped input; should it fail
anyway, every string except identifiers and frame locations is replaced
(fail closed).

Speed: key verdicts are memoised per config, cheap substring tests gate every
regex, and strings already found clean are remembered per config (bounded:
20,000 strings of up to 512 characters; only clean strings, so nothing that was
scrubbed is kept), so text that recurs from event to event costs one set lookup.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, unquote_plus

import orjson

__all__ = [
    "DEFAULT_SCRUB_CONFIG",
    "FILTERED",
    "ScrubConfig",
    "scrub_event",
    "scrub_log",
    "scrub_string",
]

FILTERED = "[Filtered]"
_FLEN = len(FILTERED)

RULE_PASSWORD = "@password:filter"
RULE_USER = "@usersecret:filter"
RULE_IP = "@ip:filter"
RULE_CARD = "@creditcard:filter"
RULE_BEARER = "@bearer:filter"
RULE_URLAUTH = "@urlauth:filter"


@dataclass(frozen=True)
class ScrubConfig:
    enabled: bool = True
    extra_fields: tuple[str, ...] = ()
    safe_fields: tuple[str, ...] = ()
    scrub_ip_addresses: bool = False


DEFAULT_SCRUB_CONFIG = ScrubConfig()

# --------------------------------------------------------------------------------------------------
# Key classification
# --------------------------------------------------------------------------------------------------

# Classification codes.
_PLAIN = 0
_SECRET = 1  # default sensitive key -> @password:filter
_USER = 2  # project-configured sensitive field -> @usersecret:filter
_IP = 3  # IP field, only when scrub_ip_addresses
_SAFE = 4  # project-configured safe field: the whole subtree is left untouched

_RULE_FOR_CODE = {_SECRET: RULE_PASSWORD, _USER: RULE_USER, _IP: RULE_IP}

# Matched as substrings of the normalised key (lower case, "-", "_", "." removed).  This covers
# Relay's default key rule (password, secret, passwd, api_key, apikey, auth, credentials,
# mysql_pwd, privatekey, private_key, token, two_factor) and its default sensitive cookie names
# (session, sessionid, user_session, phpsessid, fasthttpsessionid, irissessionid, sentrysid,
# _vercel_jwt, csrf/xsrf variants) plus the names sentry-python's own denylist adds.
_SUBSTRING_NEEDLES = (
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "apikey",
    "token",
    "auth",  # also authorization, authentication, oauth
    "credential",
    "cookie",
    "session",
    "sessid",  # phpsessid
    "csrf",
    "xsrf",
    "privatekey",
    "twofactor",
    "jwt",
    "usssn",
)
# Short needles matched against the words of the key (split at separators and camelCase) so
# that "className" or "business_name" do not match "ssn" and "inside" does not match "sid".
#   word starts or ends with it:
_WORD_EDGE_NEEDLES = ("ssn", "otp")
#   word ends with it (connect.sid, sentrysid, phpsessid):
_WORD_END_NEEDLES = ("sid",)
#   whole word (Sentry's superuser cookies):
_WORD_EXACT_NEEDLES = frozenset(("su", "sudo"))

# Key names (normalised) holding IP addresses, removed when scrub_ip_addresses is on.
_IP_KEY_SUFFIXES = (
    "ipaddress",  # user.ip_address
    "remoteaddr",  # REMOTE_ADDR
    "xforwardedfor",
    "xrealip",
    "clientaddress",  # OTel client.address
    "clientip",  # sdk.client_ip, True-Client-IP
    "connectingip",  # CF-Connecting-IP
)
_IP_KEY_EXACT = frozenset(("forwarded", "userip", "ip"))

_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
_NORM_TABLE = str.maketrans("", "", "-_.")


def _normalise(name: str) -> str:
    return name.lower().translate(_NORM_TABLE)


def _is_default_sensitive(name: str, norm: str) -> bool:
    for needle in _SUBSTRING_NEEDLES:
        if needle in norm:
            return True
    for raw in _WORD_SPLIT.split(name):
        if not raw:
            continue
        word = raw.lower()
        if word in _WORD_EXACT_NEEDLES:
            return True
        for needle in _WORD_EDGE_NEEDLES:
            if word.startswith(needle) or word.endswith(needle):
                return True
        for needle in _WORD_END_NEEDLES:
            if word.endswith(needle):
                return True
    return False


class _Classifier:
    """Memoised ``key name -> code`` for one config (bounded; cleared when it grows too large)."""

    __slots__ = ("memo", "clean", "extra", "safe", "scrub_ip")

    MAX_ENTRIES = 20_000
    # Strings already scanned and found to hold nothing to scrub.  Source lines, SQL templates,
    # reprs and URLs recur in event after event of the same application; only clean strings are
    # kept, so nothing that was scrubbed stays in memory.
    MAX_CLEAN = 20_000
    MAX_CLEAN_LEN = 512

    def __init__(self, config: ScrubConfig) -> None:
        self.memo: dict[Any, int] = {}
        self.clean: set[str] = set()
        self.extra = tuple(n for n in (_normalise(str(f).strip()) for f in config.extra_fields) if n)
        self.safe = frozenset(n for n in (_normalise(str(f).strip()) for f in config.safe_fields) if n)
        self.scrub_ip = bool(config.scrub_ip_addresses)

    def classify(self, key: Any) -> int:
        memo = self.memo
        code = memo.get(key)
        if code is not None:
            return code
        name = key if type(key) is str else str(key)
        norm = _normalise(name)
        if norm in self.safe:
            code = _SAFE
        elif _is_default_sensitive(name, norm):
            code = _SECRET
        elif any(f in norm for f in self.extra):
            code = _USER
        elif self.scrub_ip and (norm in _IP_KEY_EXACT or norm.endswith(_IP_KEY_SUFFIXES)):
            code = _IP
        else:
            code = _PLAIN
        if len(memo) >= self.MAX_ENTRIES:
            memo.clear()
        memo[key] = code
        return code


_CLASSIFIERS: dict[ScrubConfig, _Classifier] = {}


def _classifier_for(config: ScrubConfig) -> _Classifier:
    cls = _CLASSIFIERS.get(config)
    if cls is None:
        if len(_CLASSIFIERS) >= 256:
            _CLASSIFIERS.clear()
        cls = _CLASSIFIERS[config] = _Classifier(config)
    return cls


# --------------------------------------------------------------------------------------------------
# In-string patterns
# --------------------------------------------------------------------------------------------------

# scheme://user:password@ -- the password is group "pw".  The password may contain "@" (the last
# "@" before the path wins) but no "/", whitespace, quotes or backslashes.
_URL_AUTH_RE = re.compile(r"//[^:@/\s'\"\\]*:(?P<pw>[^/\s'\"\\]*)@")

# HTTP auth schemes followed by their credentials.
_SCHEME_WORDS = frozenset({"bearer", "token", "basic"})
_AUTH_RE = re.compile(r"(?i)(?<![A-Za-z0-9])(bearer|token|basic)[ \t]+([A-Za-z0-9\-._~+/]+=*)")

# Candidate card numbers: digit groups joined by single spaces or dashes, not glued to letters.
_CARD_GATE_RE = re.compile(r"[0-9](?:[ -]?[0-9]){12}")
_CARD_RUN_RE = re.compile(r"(?<![0-9A-Za-z])[0-9]+(?:[ -][0-9]+)*(?![0-9A-Za-z])")
_DIGITS_RE = re.compile(r"[0-9]+")

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

_CARD_FIRST_DIGITS = frozenset("23456")  # Mastercard 2-series, Amex/Diners/JCB, Visa, MC, Discover


def _luhn_ok(digits: str) -> bool:
    total = 0
    odd = False
    for ch in reversed(digits):
        n = ord(ch) - 48
        if odd:
            n += n
            if n > 9:
                n -= 9
        total += n
        odd = not odd
    return total % 10 == 0


def _is_card(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and digits[0] in _CARD_FIRST_DIGITS and _luhn_ok(digits)


_CARD_MAX_GROUPS = 8  # 4-4-4-4-3 has 5 groups, 2-digit groups make 8 for a 16-digit number


def _card_spans(s: str, out: list[tuple[int, int, str]]) -> None:
    """Card numbers among runs of digit groups: the longest Luhn-valid window of whole groups
    (13-19 digits, at most ``_CARD_MAX_GROUPS`` groups) starting at each group."""
    for run in _CARD_RUN_RE.finditer(s):
        groups = [(m.start(), m.end()) for m in _DIGITS_RE.finditer(s, run.start(), run.end())]
        n = len(groups)
        cum = [0]
        for a, b in groups:
            cum.append(cum[-1] + b - a)
        i = 0
        while i < n:
            last = min(i + _CARD_MAX_GROUPS, n)
            if cum[last] - cum[i] < 13:
                i += 1
                continue
            found = -1
            digits = ""
            for j in range(i, last):
                a, b = groups[j]
                digits += s[a:b]
                if len(digits) > 19:
                    break
                if _is_card(digits):
                    found = j  # keep extending: the longest window wins
            if found >= 0:
                out.append((groups[i][0], groups[found][1], RULE_CARD))
                i = found + 1
            else:
                i += 1


def _basic_credentials(token: str) -> bool:
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in raw


_DIGIT_BYTES = b"0123456789"


# Maps digits to "0", keeps " " and "-", everything else becomes "x".
_CARD_TABLE = bytes(ord("0") if 48 <= b <= 57 else b if b in (32, 45) else ord("x") for b in range(256))


def _card_candidate(s: str) -> bool:
    """Cheap superset test for a card number: some run of digits, spaces and dashes holds at
    least 13 digits."""
    b = s.encode("utf-8", "surrogatepass")
    if len(b) - len(b.translate(None, _DIGIT_BYTES)) < 13:
        return False
    for seg in b.translate(_CARD_TABLE).split(b"x"):
        if len(seg) >= 13 and seg.count(48) >= 13:
            return True
    return False


def _needs_scan(s: str) -> bool:
    """Cheap test whether any in-string pattern could match (mirrored inline in ``_walk``)."""
    return (
        "@" in s
        or "=" in s
        or '":' in s
        or "':" in s
        or (
            (" " in s or "\t" in s)
            and ("earer" in s or "oken" in s or "asic" in s or "EARER" in s or "OKEN" in s or "ASIC" in s)
        )
        or (len(s) >= 13 and _card_candidate(s))
    )


def _kv_spans(s: str, cls: _Classifier, out: list[tuple[int, int, str]]) -> None:
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
        if code == _PLAIN or code == _SAFE:
            continue
        v = _VALUE_RE.match(s, p + 1)
        if v is None or v.group("done") is not None:
            continue
        g = "sq" if v.group("sq") is not None else "dq" if v.group("dq") is not None else "bare"
        a, b = v.span(g)
        if a < b and s[a:b] != FILTERED:
            out.append((a, b, _RULE_FOR_CODE[code]))


def _find_spans(s: str, cls: _Classifier) -> list[tuple[int, int, str]] | None:
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
                ok = len(tok) >= 16 and any(c.isdigit() for c in tok)
            else:
                ok = len(tok) >= 8 and _basic_credentials(tok)
            if ok:
                pos = m.end(2)
                if spans is None:
                    spans = []
                spans.append((m.start(2), m.end(2), RULE_BEARER))
    if len(s) >= 13 and _card_candidate(s) and _CARD_GATE_RE.search(s) is not None:
        found: list[tuple[int, int, str]] = []
        _card_spans(s, found)
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
        rems.append([rule, "s", out_len, out_len + _FLEN])
        out_len += _FLEN
        pos = b
    parts.append(s[pos:])
    return "".join(parts), rems


def _scrub_text(s: str, cls: _Classifier) -> tuple[str, list[list[Any]]] | None:
    clean = cls.clean
    if s in clean:
        return None
    spans = _find_spans(s, cls)
    if not spans:
        if len(s) <= _Classifier.MAX_CLEAN_LEN:
            if len(clean) >= _Classifier.MAX_CLEAN:
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
    res = _scrub_text(value, _classifier_for(DEFAULT_SCRUB_CONFIG))
    return value if res is None else res[0]


# --------------------------------------------------------------------------------------------------
# Parameter strings: query strings, urlencoded bodies, cookie headers
# --------------------------------------------------------------------------------------------------


def _scrub_params(s: str, sep: str, cls: _Classifier) -> tuple[str, list[list[Any]]] | None:
    """Scrub ``a=b<sep>c=d`` parameter by parameter.  Sensitive parameters get ``[Filtered]``
    as value; the others get the in-string patterns (on their decoded value, re-encoded only
    when something changed).  Untouched parameters keep their exact bytes."""
    if "=" not in s:
        return _scrub_text(s, cls)
    cookie = sep == ";"
    segments = s.split(sep)
    changed = False
    rems: list[list[Any]] = []
    out: list[str] = []
    out_len = 0
    sep_len = len(sep)
    for idx, seg in enumerate(segments):
        if idx:
            out_len += sep_len
        eq = seg.find("=")
        if eq < 0:
            res = _scrub_text(seg, cls)
            if res is not None:
                changed = True
                seg, seg_rems = res
                for r in seg_rems:
                    rems.append([r[0], "s", r[2] + out_len, r[3] + out_len])
            out.append(seg)
            out_len += len(seg)
            continue
        raw_key, raw_val = seg[:eq], seg[eq + 1 :]
        key = raw_key.strip() if cookie else unquote_plus(raw_key)
        code = cls.classify(key) if key else _PLAIN
        if code == _SAFE:
            out.append(seg)
            out_len += len(seg)
            continue
        prefix = seg[: eq + 1]
        if code != _PLAIN:
            lead = raw_val[: len(raw_val) - len(raw_val.lstrip())] if cookie else ""
            val = raw_val[len(lead) :]
            decoded = val if cookie else unquote_plus(val)
            if val and decoded != FILTERED and val != FILTERED:
                changed = True
                start = out_len + len(prefix) + len(lead)
                rems.append([_RULE_FOR_CODE[code], "s", start, start + _FLEN])
                seg = prefix + lead + FILTERED
            out.append(seg)
            out_len += len(seg)
            continue
        new_val: str | None = None
        val_rems: list[list[Any]] = []
        decoded = raw_val if cookie else unquote_plus(raw_val)
        if decoded == raw_val:
            res = _scrub_text(raw_val, cls)
            if res is not None:
                new_val, val_rems = res
        else:
            res = _scrub_text(decoded, cls)
            if res is not None:
                new_dec = res[0]
                new_val = quote_plus(new_dec, safe="[]")
                # positions inside a re-encoded value are not meaningful; mark the whole value
                val_rems = [[r[0], "s", 0, len(new_val)] for r in res[1]][:1]
        if new_val is not None:
            changed = True
            base = out_len + len(prefix)
            for r in val_rems:
                rems.append([r[0], "s", r[2] + base, r[3] + base])
            seg = prefix + new_val
        out.append(seg)
        out_len += len(seg)
    if not changed:
        return None
    return sep.join(out), rems


# --------------------------------------------------------------------------------------------------
# The walk
# --------------------------------------------------------------------------------------------------

# Stack entry modes.
_M_KEYS = 1  # key names of this container are checked
_M_ROOT = 8  # the event itself
_M_REQUEST = 16  # event.request
_M_NOKEYS = 32  # below "modules" / "debug_meta": key names are not checked
_M_SLOW = _M_ROOT | _M_REQUEST | _M_NOKEYS

_ROOT_NO_KEYS = frozenset(("modules", "debug_meta"))

# Deeper paths are still scrubbed but not recorded in _meta (keeps _meta serialisable).
_MAX_META_DEPTH = 200

# A record: (path, rem entries, original length or None).  A path is a linked list of
# (parent_path, key) tuples; None is the root.
_Record = tuple[Any, list[list[Any]], int | None]


def _filtered_value(v: Any) -> tuple[bool, int | None]:
    """Whether a value under a sensitive key gets replaced, and its original length."""
    t = type(v)
    if t is str:
        if not v or v == FILTERED:
            return False, None
        return True, len(v)
    if t is dict or t is list:
        return (True, len(v)) if v else (False, None)
    if v is None or t is bool:
        return False, None
    return True, None  # numbers and anything else


def _filter_in_dict(obj: dict[str, Any], k: Any, v: Any, code: int, path: Any, rec: list[_Record]) -> None:
    """``obj[k]`` is under a sensitive (or IP) key."""
    if code == _IP:
        if v is not None:
            obj[k] = None
            rec.append(((path, k), [[RULE_IP, "x"]], len(v) if type(v) is str else None))
        return
    replace, orig_len = _filtered_value(v)
    if replace:
        obj[k] = FILTERED
        rec.append(((path, k), [[_RULE_FOR_CODE[code], "s", 0, _FLEN]], orig_len))


def _walk(stack: list[tuple[Any, Any, int]], cls: _Classifier, rec: list[_Record]) -> None:
    """Scrub every container on ``stack`` (and everything below it) in place.

    Iterative, so nesting depth is not limited by Python's recursion limit.  The string gate
    below is ``_needs_scan`` written out inline: this loop runs for every value of every event.
    """
    classify = cls.classify
    memo_get = cls.memo.get
    push = stack.append
    pop = stack.pop
    scrub_text = _scrub_text
    digits = _DIGIT_BYTES
    clean = cls.clean
    max_clean = _Classifier.MAX_CLEAN
    max_clean_len = _Classifier.MAX_CLEAN_LEN
    while stack:
        obj, path, mode = pop()
        if mode & _M_SLOW:
            _walk_slow_dict(obj, path, mode, cls, rec, push)
            continue
        if type(obj) is dict:
            items: Any = obj.items()
            keyed = True
        else:  # a list
            if not obj:
                continue
            try:
                # Source context lines repeat from event to event: a list of strings all seen clean
                # before is skipped in one C-level pass (lists holding containers raise TypeError).
                if clean.issuperset(obj):
                    continue
            except TypeError:
                pass
            first = obj[0]
            if (
                type(first) is list
                and len(first) == 2
                and type(first[0]) is str
                and all(type(p) is list and len(p) == 2 and type(p[0]) is str for p in obj)
            ):
                _walk_pairs(obj, path, cls, rec, push)
                continue
            items = enumerate(obj)
            keyed = False
        for k, v in items:
            if keyed:
                code = memo_get(k)
                if code is None:
                    code = classify(k)
                if code:
                    if code != _SAFE:
                        _filter_in_dict(obj, k, v, code, path, rec)
                    continue
            tv = type(v)
            if tv is str:
                if len(v) > 3 and v not in clean:
                    if (
                        "@" in v
                        or "=" in v
                        or '":' in v
                        or "':" in v
                        or (
                            (" " in v or "\t" in v)
                            and (
                                "earer" in v
                                or "oken" in v
                                or "asic" in v
                                or "EARER" in v
                                or "OKEN" in v
                                or "ASIC" in v
                            )
                        )
                        or (
                            len(v) >= 13
                            and len(v) - len(v.encode("utf-8", "surrogatepass").translate(None, digits)) >= 13
                            and _card_candidate(v)
                        )
                    ):
                        res = scrub_text(v, cls)
                        if res is not None:
                            obj[k] = res[0]
                            rec.append(((path, k), res[1], len(v)))
                    elif len(v) <= max_clean_len:
                        if len(clean) >= max_clean:
                            clean.clear()
                        clean.add(v)
            elif tv is dict or tv is list:
                push((v, (path, k), _M_KEYS))


def _scrub_error_entries(errors: list[Any], path: Any, cls: _Classifier, rec: list[_Record]) -> None:
    """Processing errors (``{"type", "name": "request.cookies", "value": "<repr>"}``) quote the
    invalid original value: filter it when the field it came from is sensitive."""
    for i, entry in enumerate(errors):
        if type(entry) is not dict:
            continue
        name = entry.get("name")
        if type(name) is not str:
            continue
        code = _PLAIN
        for segment in name.split("."):
            c = cls.classify(segment)
            if c == _SAFE:
                code = _PLAIN
                break
            if c and not code:
                code = c
        if not code:
            continue
        for field in ("value", "original_value"):
            if field in entry:
                replace, orig_len = _filtered_value(entry[field])
                if replace:
                    entry[field] = FILTERED
                    rule = RULE_IP if code == _IP else _RULE_FOR_CODE[code]
                    rec.append((((path, i), field), [[rule, "s", 0, _FLEN]], orig_len))


def _walk_slow_dict(
    obj: Any,
    path: Any,
    mode: int,
    cls: _Classifier,
    rec: list[_Record],
    push: Callable[[tuple[Any, Any, int]], None],
) -> None:
    """The event root, ``request``, and containers whose key names are not checked."""
    keys = mode & _M_KEYS
    items: Any
    if type(obj) is dict:
        items = obj.items()
    else:
        items = enumerate(obj)
    for k, v in items:
        tv = type(v)
        if mode & _M_ROOT:
            if k == "_meta":
                continue
            if k in _ROOT_NO_KEYS and (tv is dict or tv is list):
                push((v, (path, k), _M_NOKEYS))
                continue
            if k == "request" and tv is dict and cls.classify(k) == _PLAIN:
                push((v, (path, k), _M_KEYS | _M_REQUEST))
                continue
            if k == "errors" and tv is list:
                _scrub_error_entries(v, (path, k), cls, rec)
        elif mode & _M_REQUEST and (k == "cookies" or k == "query_string" or k == "data"):
            code = cls.classify(k)
            if code == _PLAIN or (k == "cookies" and code == _SECRET):
                if tv is str:
                    res = _scrub_params(v, ";", cls) if k == "cookies" else _scrub_request_text(v, k, cls)
                    if res is not None:
                        obj[k] = res[0]
                        rec.append(((path, k), res[1], len(v)))
                    continue
                if k == "cookies" and (tv is dict or tv is list):
                    # "cookies" itself is not a sensitive key here; each cookie name is.
                    push((v, (path, k), _M_KEYS))
                    continue
        if keys:
            code = cls.classify(k)
            if code:
                if code != _SAFE:
                    _filter_in_dict(obj, k, v, code, path, rec)
                continue
        if tv is str:
            if len(v) > 3 and _needs_scan(v):
                res = _scrub_text(v, cls)
                if res is not None:
                    obj[k] = res[0]
                    rec.append(((path, k), res[1], len(v)))
        elif tv is dict or tv is list:
            push((v, (path, k), mode & (_M_KEYS | _M_NOKEYS)))


def _walk_pairs(
    pairs: list[list[Any]],
    path: Any,
    cls: _Classifier,
    rec: list[_Record],
    push: Callable[[tuple[Any, Any, int]], None],
) -> None:
    """A list of ``[name, value]`` pairs (headers, tags, cookies, query strings)."""
    classify = cls.classify
    for i, pair in enumerate(pairs):
        name, v = pair
        ppath = (path, i)
        code = classify(name)
        if code == _SAFE:
            continue
        if len(name) > 3 and _needs_scan(name):
            res = _scrub_text(name, cls)
            if res is not None:
                pair[0] = res[0]
                rec.append(((ppath, 0), res[1], len(name)))
        if code:
            if code == _IP:
                if v is not None and v != FILTERED:
                    pair[1] = FILTERED
                    rec.append(((ppath, 1), [[RULE_IP, "s", 0, _FLEN]], len(v) if type(v) is str else None))
                continue
            replace, orig_len = _filtered_value(v)
            if replace:
                pair[1] = FILTERED
                rec.append(((ppath, 1), [[_RULE_FOR_CODE[code], "s", 0, _FLEN]], orig_len))
            continue
        tv = type(v)
        if tv is str:
            if len(v) > 3 and _needs_scan(v):
                res = _scrub_text(v, cls)
                if res is not None:
                    pair[1] = res[0]
                    rec.append(((ppath, 1), res[1], len(v)))
        elif tv is dict or tv is list:
            push((v, (ppath, 1), _M_KEYS))


def _scrub_request_text(s: str, field: str, cls: _Classifier) -> tuple[str, list[list[Any]]] | None:
    """``request.query_string`` or ``request.data`` given as a string."""
    if field == "data":
        head = s.lstrip()[:1]
        if head == "{" or head == "[":
            try:
                parsed = orjson.loads(s)
            except Exception:  # noqa: BLE001 - not JSON: fall through to the text rules
                parsed = None
            if type(parsed) is dict or type(parsed) is list:
                inner: list[_Record] = []
                _walk([(parsed, None, _M_KEYS)], cls, inner)
                if not inner:
                    return None
                try:
                    new = orjson.dumps(parsed).decode()
                except Exception:  # noqa: BLE001 - e.g. too deep to serialise
                    return (FILTERED, [[RULE_PASSWORD, "s", 0, _FLEN]])
                rules = sorted({r[0] for _, rems, _ in inner for r in rems})
                return new, [[rule, "s"] for rule in rules]
    return _scrub_params(s, "&", cls)


# --------------------------------------------------------------------------------------------------
# _meta
# --------------------------------------------------------------------------------------------------


def _path_keys(path: Any) -> list[str]:
    keys: list[str] = []
    while path is not None:
        path, k = path
        keys.append(k if type(k) is str else str(k))
    keys.reverse()
    return keys


def _build_meta(rec: list[_Record]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for path, rems, orig_len in rec:
        keys = _path_keys(path)
        if len(keys) > _MAX_META_DEPTH or "" in keys:
            # An empty key would read as a meta node marker: such paths are not recorded.
            continue
        node = meta
        for k in keys:
            nxt = node.get(k)
            if type(nxt) is not dict:
                nxt = node[k] = {}
            node = nxt
        leaf = node.get("")
        if type(leaf) is not dict:
            leaf = node[""] = {}
        old = leaf.get("rem")
        if type(old) is list:
            old.extend(rems)
        else:
            leaf["rem"] = list(rems)
        if orig_len is not None and "len" not in leaf:
            leaf["len"] = orig_len
    return meta


def _merge_meta(dst: dict[str, Any], src: dict[str, Any]) -> None:
    stack = [(dst, src)]
    while stack:
        d, s = stack.pop()
        for k, v in s.items():
            cur = d.get(k)
            if k == "":
                if type(cur) is dict:
                    old = cur.get("rem")
                    if type(old) is list:
                        old.extend(v.get("rem", ()))
                    else:
                        cur["rem"] = v.get("rem", [])
                    if "len" in v and "len" not in cur:
                        cur["len"] = v["len"]
                else:
                    d[k] = v
            elif type(cur) is dict and type(v) is dict:
                stack.append((cur, v))
            else:
                d[k] = v


def _sanitise_incoming_meta(meta: Any, cls: _Classifier) -> Any:
    """The SDK's own ``_meta`` is kept, minus original values (``val``) and with the in-string
    patterns applied to whatever strings it carries."""
    if type(meta) is str:
        res = _scrub_text(meta, cls)
        return meta if res is None else res[0]
    if type(meta) is not dict and type(meta) is not list:
        return meta
    stack: list[Any] = [meta]
    while stack:
        obj = stack.pop()
        if type(obj) is dict:
            leaf = obj.get("")
            if type(leaf) is dict:
                leaf.pop("val", None)
            items: Any = obj.items()
        else:
            items = enumerate(obj)
        for k, v in items:
            tv = type(v)
            if tv is str:
                res = _scrub_text(v, cls)
                if res is not None:
                    obj[k] = res[0]
            elif tv is dict or tv is list:
                stack.append(v)
    return meta


def _attach_meta(target: dict[str, Any], rec: list[_Record], cls: _Classifier) -> None:
    incoming = target.get("_meta")
    if incoming is not None:
        incoming = target["_meta"] = _sanitise_incoming_meta(incoming, cls)
    if not rec:
        return
    meta = _build_meta(rec)
    if not meta:
        return
    if type(incoming) is dict:
        _merge_meta(incoming, meta)
    else:
        target["_meta"] = meta


# --------------------------------------------------------------------------------------------------
# Fail closed
# --------------------------------------------------------------------------------------------------

_FAIL_CLOSED_KEEP = frozenset(
    (
        "event_id",
        "timestamp",
        "start_timestamp",
        "level",
        "platform",
        "type",
        "logger",
        "release",
        "dist",
        "environment",
        "trace_id",
        "span_id",
        "severity_number",
        "module",
        "function",
        "filename",
        "abs_path",
        "lineno",
        "colno",
        "in_app",
        "mechanism",
        "handled",
        "name",
        "version",
    )
)


def _fail_closed(root: Any) -> None:
    """Last resort if scrubbing itself failed: keep identifiers and frame locations, replace
    every other string with ``[Filtered]``."""
    try:
        stack: list[Any] = [root]
        while stack:
            obj = stack.pop()
            items: Any = list(obj.items()) if type(obj) is dict else list(enumerate(obj))
            for k, v in items:
                tv = type(v)
                if tv is dict or tv is list:
                    stack.append(v)
                elif tv is str and not (type(k) is str and k in _FAIL_CLOSED_KEEP):
                    obj[k] = FILTERED
    except Exception:  # noqa: BLE001
        if type(root) is dict:
            root.clear()


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


def scrub_event(event: dict[str, Any], config: ScrubConfig = DEFAULT_SCRUB_CONFIG) -> dict[str, Any]:
    """Scrub ``event`` in place and return it.  Never raises on JSON-shaped input."""
    if type(event) is not dict or not config.enabled:
        return event
    try:
        cls = _classifier_for(config)
        rec: list[_Record] = []
        _walk([(event, None, _M_KEYS | _M_ROOT)], cls, rec)
        _attach_meta(event, rec, cls)
    except Exception:  # noqa: BLE001 - a bug here must not let data through unscrubbed
        _fail_closed(event)
    return event


def scrub_log(log: dict[str, Any], config: ScrubConfig = DEFAULT_SCRUB_CONFIG) -> dict[str, Any]:
    """Scrub one structured log record (``body`` + ``attributes`` of ``{value, type}``) in place
    and return it.  Never raises on JSON-shaped input."""
    if type(log) is not dict or not config.enabled:
        return log
    try:
        cls = _classifier_for(config)
        rec: list[_Record] = []
        stack: list[tuple[Any, Any, int]] = []
        attrs = log.get("attributes")
        if type(attrs) is dict:
            apath = (None, "attributes")
            for name, attr in attrs.items():
                code = cls.classify(name)
                if code == _SAFE:
                    continue
                is_typed = type(attr) is dict and "value" in attr
                v = attr["value"] if is_typed else attr
                vpath = ((apath, name), "value") if is_typed else (apath, name)
                if code:
                    if code == _IP:
                        replace, orig_len = (
                            (v is not None and v != FILTERED),
                            (len(v) if type(v) is str else None),
                        )
                        rule = RULE_IP
                    else:
                        replace, orig_len = _filtered_value(v)
                        rule = _RULE_FOR_CODE[code]
                    if replace:
                        if is_typed:
                            attr["value"] = FILTERED
                            if "type" in attr:
                                attr["type"] = "string"
                        else:
                            attrs[name] = FILTERED
                        rec.append((vpath, [[rule, "s", 0, _FLEN]], orig_len))
                    continue
                tv = type(v)
                if tv is str:
                    res = _scrub_text(v, cls)
                    if res is not None:
                        if is_typed:
                            attr["value"] = res[0]
                        else:
                            attrs[name] = res[0]
                        rec.append((vpath, res[1], len(v)))
                elif tv is dict or tv is list:
                    stack.append((v, vpath, _M_KEYS))
        elif type(attrs) is list:
            stack.append((attrs, (None, "attributes"), _M_KEYS))
        for k, v in log.items():
            if k == "attributes" or k == "_meta":
                continue
            tv = type(v)
            if tv is str:
                res = _scrub_text(v, cls)
                if res is not None:
                    log[k] = res[0]
                    rec.append(((None, k), res[1], len(v)))
            elif tv is dict or tv is list:
                stack.append((v, (None, k), _M_KEYS))
        _walk(stack, cls, rec)
        _attach_meta(log, rec, cls)
    except Exception:  # noqa: BLE001
        _fail_closed(log)
    return log
