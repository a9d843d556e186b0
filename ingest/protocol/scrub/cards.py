"""Card numbers inside strings: Luhn-valid runs of 13-19 digits starting with 2-6, in at most 8
groups joined by single spaces or dashes, and the cheap byte-level test that gates the search."""

from __future__ import annotations

import re

from .config import RULE_CARD

# Candidate card numbers: digit groups joined by single spaces or dashes, not glued to letters.
CARD_GATE_RE = re.compile(r"[0-9](?:[ -]?[0-9]){12}")
_CARD_RUN_RE = re.compile(r"(?<![0-9A-Za-z])[0-9]+(?:[ -][0-9]+)*(?![0-9A-Za-z])")
_DIGITS_RE = re.compile(r"[0-9]+")

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


def card_spans(s: str, out: list[tuple[int, int, str]]) -> None:
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


DIGIT_BYTES = b"0123456789"


# Maps digits to "0", keeps " " and "-", everything else becomes "x".
_CARD_TABLE = bytes(ord("0") if 48 <= b <= 57 else b if b in (32, 45) else ord("x") for b in range(256))


def card_candidate(s: str) -> bool:
    """Cheap superset test for a card number: some run of digits, spaces and dashes holds at
    least 13 digits."""
    b = s.encode("utf-8", "surrogatepass")
    if len(b) - len(b.translate(None, DIGIT_BYTES)) < 13:
        return False
    for seg in b.translate(_CARD_TABLE).split(b"x"):
        if len(seg) >= 13 and seg.count(48) >= 13:
            return True
    return False
