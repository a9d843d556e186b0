"""Parameter strings: query strings, urlencoded bodies and cookie headers, parameter by parameter."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus, unquote_plus

from .config import FILTERED, FILTERED_LEN
from .keys import PLAIN, RULE_FOR_CODE, SAFE, Classifier
from .patterns import scrub_text


def scrub_params(s: str, sep: str, cls: Classifier) -> tuple[str, list[list[Any]]] | None:
    """Scrub ``a=b<sep>c=d`` parameter by parameter.  Sensitive parameters get ``[Filtered]``
    as value; the others get the in-string patterns (on their decoded value, re-encoded only
    when something changed).  Untouched parameters keep their exact bytes."""
    if "=" not in s:
        return scrub_text(s, cls)
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
            res = scrub_text(seg, cls)
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
        code = cls.classify(key) if key else PLAIN
        if code == SAFE:
            out.append(seg)
            out_len += len(seg)
            continue
        prefix = seg[: eq + 1]
        if code != PLAIN:
            lead = raw_val[: len(raw_val) - len(raw_val.lstrip())] if cookie else ""
            val = raw_val[len(lead) :]
            decoded = val if cookie else unquote_plus(val)
            if val and decoded != FILTERED and val != FILTERED:
                changed = True
                start = out_len + len(prefix) + len(lead)
                rems.append([RULE_FOR_CODE[code], "s", start, start + FILTERED_LEN])
                seg = prefix + lead + FILTERED
            out.append(seg)
            out_len += len(seg)
            continue
        new_val: str | None = None
        val_rems: list[list[Any]] = []
        decoded = raw_val if cookie else unquote_plus(raw_val)
        if decoded == raw_val:
            res = scrub_text(raw_val, cls)
            if res is not None:
                new_val, val_rems = res
        else:
            res = scrub_text(decoded, cls)
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
