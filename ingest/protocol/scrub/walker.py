"""The walk over an event: every value, iteratively (no recursion limit), in place. Values under
sensitive keys become ``[Filtered]``, strings get the in-string patterns, and ``request``, the event
root and ``[name, value]`` pair lists get their special cases. What was replaced is recorded for
``_meta`` (meta.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from .cards import DIGIT_BYTES, card_candidate
from .config import FILTERED, FILTERED_LEN, RULE_IP, RULE_PASSWORD
from .keys import IP, PLAIN, RULE_FOR_CODE, SAFE, SECRET, Classifier
from .params import scrub_params
from .patterns import needs_scan, scrub_text

# Stack entry modes.
M_KEYS = 1  # key names of this container are checked
M_ROOT = 8  # the event itself
M_REQUEST = 16  # event.request
M_NOKEYS = 32  # below "modules" / "debug_meta": key names are not checked
M_SLOW = M_ROOT | M_REQUEST | M_NOKEYS

_ROOT_NO_KEYS = frozenset(("modules", "debug_meta"))

# A record: (path, rem entries, original length or None).  A path is a linked list of
# (parent_path, key) tuples; None is the root.
Record = tuple[Any, list[list[Any]], int | None]


def filtered_value(v: Any) -> tuple[bool, int | None]:
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


def _filter_in_dict(obj: dict[str, Any], k: Any, v: Any, code: int, path: Any, rec: list[Record]) -> None:
    """``obj[k]`` is under a sensitive (or IP) key."""
    if code == IP:
        if v is not None:
            obj[k] = None
            rec.append(((path, k), [[RULE_IP, "x"]], len(v) if type(v) is str else None))
        return
    replace, orig_len = filtered_value(v)
    if replace:
        obj[k] = FILTERED
        rec.append(((path, k), [[RULE_FOR_CODE[code], "s", 0, FILTERED_LEN]], orig_len))


def walk(stack: list[tuple[Any, Any, int]], cls: Classifier, rec: list[Record]) -> None:
    """Scrub every container on ``stack`` (and everything below it) in place.

    Iterative, so nesting depth is not limited by Python's recursion limit.  The string gate
    below is ``needs_scan`` written out inline: this loop runs for every value of every event.
    """
    classify = cls.classify
    memo_get = cls.memo.get
    push = stack.append
    pop = stack.pop
    scan = scrub_text
    digits = DIGIT_BYTES
    clean = cls.clean
    max_clean = Classifier.MAX_CLEAN
    max_clean_len = Classifier.MAX_CLEAN_LEN
    while stack:
        obj, path, mode = pop()
        if mode & M_SLOW:
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
                    if code != SAFE:
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
                            and card_candidate(v)
                        )
                    ):
                        res = scan(v, cls)
                        if res is not None:
                            obj[k] = res[0]
                            rec.append(((path, k), res[1], len(v)))
                    elif len(v) <= max_clean_len:
                        if len(clean) >= max_clean:
                            clean.clear()
                        clean.add(v)
            elif tv is dict or tv is list:
                push((v, (path, k), M_KEYS))


def _scrub_error_entries(errors: list[Any], path: Any, cls: Classifier, rec: list[Record]) -> None:
    """Processing errors (``{"type", "name": "request.cookies", "value": "<repr>"}``) quote the
    invalid original value: filter it when the field it came from is sensitive."""
    for i, entry in enumerate(errors):
        if type(entry) is not dict:
            continue
        name = entry.get("name")
        if type(name) is not str:
            continue
        code = PLAIN
        for segment in name.split("."):
            c = cls.classify(segment)
            if c == SAFE:
                code = PLAIN
                break
            if c and not code:
                code = c
        if not code:
            continue
        for field in ("value", "original_value"):
            if field in entry:
                replace, orig_len = filtered_value(entry[field])
                if replace:
                    entry[field] = FILTERED
                    rule = RULE_IP if code == IP else RULE_FOR_CODE[code]
                    rec.append((((path, i), field), [[rule, "s", 0, FILTERED_LEN]], orig_len))


def _walk_slow_dict(
    obj: Any,
    path: Any,
    mode: int,
    cls: Classifier,
    rec: list[Record],
    push: Callable[[tuple[Any, Any, int]], None],
) -> None:
    """The event root, ``request``, and containers whose key names are not checked."""
    keys = mode & M_KEYS
    items: Any
    if type(obj) is dict:
        items = obj.items()
    else:
        items = enumerate(obj)
    for k, v in items:
        tv = type(v)
        if mode & M_ROOT:
            if k == "_meta":
                continue
            if k in _ROOT_NO_KEYS and (tv is dict or tv is list):
                push((v, (path, k), M_NOKEYS))
                continue
            if k == "request" and tv is dict and cls.classify(k) == PLAIN:
                push((v, (path, k), M_KEYS | M_REQUEST))
                continue
            if k == "errors" and tv is list:
                _scrub_error_entries(v, (path, k), cls, rec)
        elif mode & M_REQUEST and (k == "cookies" or k == "query_string" or k == "data"):
            code = cls.classify(k)
            if code == PLAIN or (k == "cookies" and code == SECRET):
                if tv is str:
                    res = scrub_params(v, ";", cls) if k == "cookies" else _scrub_request_text(v, k, cls)
                    if res is not None:
                        obj[k] = res[0]
                        rec.append(((path, k), res[1], len(v)))
                    continue
                if k == "cookies" and (tv is dict or tv is list):
                    # "cookies" itself is not a sensitive key here; each cookie name is.
                    push((v, (path, k), M_KEYS))
                    continue
        if keys:
            code = cls.classify(k)
            if code:
                if code != SAFE:
                    _filter_in_dict(obj, k, v, code, path, rec)
                continue
        if tv is str:
            if len(v) > 3 and needs_scan(v):
                res = scrub_text(v, cls)
                if res is not None:
                    obj[k] = res[0]
                    rec.append(((path, k), res[1], len(v)))
        elif tv is dict or tv is list:
            push((v, (path, k), mode & (M_KEYS | M_NOKEYS)))


def _walk_pairs(
    pairs: list[list[Any]],
    path: Any,
    cls: Classifier,
    rec: list[Record],
    push: Callable[[tuple[Any, Any, int]], None],
) -> None:
    """A list of ``[name, value]`` pairs (headers, tags, cookies, query strings)."""
    classify = cls.classify
    for i, pair in enumerate(pairs):
        name, v = pair
        ppath = (path, i)
        code = classify(name)
        if code == SAFE:
            continue
        if len(name) > 3 and needs_scan(name):
            res = scrub_text(name, cls)
            if res is not None:
                pair[0] = res[0]
                rec.append(((ppath, 0), res[1], len(name)))
        if code:
            if code == IP:
                if v is not None and v != FILTERED:
                    pair[1] = FILTERED
                    rec.append(
                        ((ppath, 1), [[RULE_IP, "s", 0, FILTERED_LEN]], len(v) if type(v) is str else None)
                    )
                continue
            replace, orig_len = filtered_value(v)
            if replace:
                pair[1] = FILTERED
                rec.append(((ppath, 1), [[RULE_FOR_CODE[code], "s", 0, FILTERED_LEN]], orig_len))
            continue
        tv = type(v)
        if tv is str:
            if len(v) > 3 and needs_scan(v):
                res = scrub_text(v, cls)
                if res is not None:
                    pair[1] = res[0]
                    rec.append(((ppath, 1), res[1], len(v)))
        elif tv is dict or tv is list:
            push((v, (ppath, 1), M_KEYS))


def _scrub_request_text(s: str, field: str, cls: Classifier) -> tuple[str, list[list[Any]]] | None:
    """``request.query_string`` or ``request.data`` given as a string."""
    if field == "data":
        head = s.lstrip()[:1]
        if head == "{" or head == "[":
            try:
                parsed = orjson.loads(s)
            except Exception:  # noqa: BLE001 - not JSON: fall through to the text rules
                parsed = None
            if type(parsed) is dict or type(parsed) is list:
                inner: list[Record] = []
                walk([(parsed, None, M_KEYS)], cls, inner)
                if not inner:
                    return None
                try:
                    new = orjson.dumps(parsed).decode()
                except Exception:  # noqa: BLE001 - e.g. too deep to serialise
                    return (FILTERED, [[RULE_PASSWORD, "s", 0, FILTERED_LEN]])
                rules = sorted({r[0] for _, rems, _ in inner for r in rems})
                return new, [[rule, "s"] for rule in rules]
    return scrub_params(s, "&", cls)
