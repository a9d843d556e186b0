"""Glob patterns as used by fingerprint and stack-trace rules.

Semantics: the whole value must match; ``*`` matches any run of characters
(only within one path segment when ``doublestar`` is on, where ``**`` crosses
segments); ``?`` matches one character; ``[abc]`` / ``[!abc]`` are character
classes.  Path-like values have backslashes turned into slashes first.
Simple patterns are turned into plain string operations instead of regular
expressions because rule matching runs for every frame of every event.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from .glob_automaton import automaton_matcher

Matcher = Callable[[str], bool]


# An atom of a glob: ("lit", char) | ("any", "") | ("class", body) | ("star", "/" or "") where a
# star's data is the one character it may not cross.
Atom = tuple[str, str]


def _atoms(pattern: str, doublestar: bool) -> list[Atom]:
    atoms: list[Atom] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            crosses = not doublestar or pattern[i : i + 1] == "*"
            i += 1 if doublestar and pattern[i : i + 1] == "*" else 0
            if not (atoms and atoms[-1] == ("star", "" if crosses else "/")):
                atoms.append(("star", "" if crosses else "/"))
        elif c == "?":
            atoms.append(("any", ""))
        elif c == "[":
            out: list[str] = []
            j = _char_class(pattern, i, out)
            atoms.append(("class", out[0]) if j != i else ("lit", "["))
            i = j
        else:
            atoms.append(("lit", c))
    return atoms


def glob_to_regex(pattern: str, doublestar: bool = False) -> str:
    return "".join(_atom_regex(atom) for atom in _atoms(pattern, doublestar))


def _atom_regex(atom: Atom) -> str:
    kind, data = atom
    if kind == "star":
        return "[^/]*" if data else ".*"
    if kind == "any":
        return "."
    return data if kind == "class" else re.escape(data)


def _char_class(pattern: str, i: int, out: list[str]) -> int:
    j = i
    n = len(pattern)
    if j < n and pattern[j] == "!":
        j += 1
    if j < n and pattern[j] == "]":
        j += 1
    while j < n and pattern[j] != "]":
        j += 1
    if j >= n:
        out.append("\\[")
        return i
    body = pattern[i:j].replace("\\", "\\\\").replace("[", "\\[")
    if body.startswith("!"):
        body = "^" + body[1:]
    elif body.startswith("^"):
        body = "\\" + body
    out.append(f"[{body}]")
    return j + 1


def _literal_pieces(pattern: str, doublestar: bool) -> list[str] | None:
    """Split a pattern made only of literals and "match anything" stars."""
    if "?" in pattern or "[" in pattern:
        return None
    if doublestar:
        # a lone '*' stops at '/', which plain string search cannot express
        if re.search(r"(?<!\*)\*(?!\*)", pattern):
            return None
    return re.split(r"\*+", pattern)


def _pieces_matcher(pieces: list[str]) -> Matcher:
    if len(pieces) == 1:
        literal = pieces[0]
        return lambda v: v == literal
    head, tail, middle = pieces[0], pieces[-1], [p for p in pieces[1:-1] if p]
    min_len = len(head) + len(tail) + sum(len(p) for p in middle)
    if not middle:
        if not tail:
            return lambda v: v.startswith(head)
        if not head:
            return lambda v: v.endswith(tail)
        return lambda v: len(v) >= min_len and v.startswith(head) and v.endswith(tail)
    if len(middle) == 1 and not head and not tail:
        needle = middle[0]
        return lambda v: needle in v

    def match(value: str) -> bool:
        if len(value) < min_len or not value.startswith(head):
            return False
        pos = len(head)
        for piece in middle:
            idx = value.find(piece, pos)
            if idx < 0:
                return False
            pos = idx + len(piece)
        return len(value) - pos >= len(tail) and value.endswith(tail)

    return match


@lru_cache(maxsize=4096)
def compile_glob(pattern: str, doublestar: bool = False, ignorecase: bool = False) -> Matcher:
    """Return a predicate telling whether a (pre-normalised) value matches ``pattern``.

    With ``ignorecase`` the caller must pass lower-cased values. Every matcher runs in time linear in
    the value for a given pattern: rules are written by tenants and run on the shared worker, and
    a backtracking regex for ``*a*a*a*a*a*a?b`` takes minutes on a few thousand characters. Several
    stars run as an automaton (glob_automaton.py), which also spends the event's rule budget.
    """
    if ignorecase:
        pattern = pattern.lower()
    pieces = _literal_pieces(pattern, doublestar)
    if pieces is not None:
        return _pieces_matcher(pieces)
    atoms = _atoms(pattern, doublestar)
    stars = [i for i, atom in enumerate(atoms) if atom[0] == "star"]
    if len(stars) <= 1:
        return _one_star_matcher(atoms, stars[0] if stars else None)
    return automaton_matcher(atoms)


def _one_star_matcher(atoms: list[Atom], star: int | None) -> Matcher:
    """At most one star: every other atom is one character, so what comes before the star matches a
    prefix of known length and what follows it a suffix; two fixed-length regex matches, no search.
    (A regex ``head.*tail`` would try the tail at every position: value x pattern steps.)"""
    if star is None:
        whole = re.compile("".join(map(_atom_regex, atoms)), re.DOTALL)
        return lambda v: whole.fullmatch(v) is not None
    head_atoms, tail_atoms = atoms[:star], atoms[star + 1 :]
    head = re.compile("".join(map(_atom_regex, head_atoms)), re.DOTALL)
    tail = re.compile("".join(map(_atom_regex, tail_atoms)), re.DOTALL)
    head_len, tail_len, barrier = len(head_atoms), len(tail_atoms), atoms[star][1]

    def match(value: str) -> bool:
        cut = len(value) - tail_len
        if cut < head_len or head.fullmatch(value, 0, head_len) is None:
            return False
        if tail.fullmatch(value, cut) is None:
            return False
        return not barrier or barrier not in value[head_len:cut]

    return match


def path_match(pattern_matcher: Matcher, value: str) -> bool:
    """Path-style matching: also try with a leading slash for relative paths."""
    if pattern_matcher(value):
        return True
    return not value.startswith("/") and pattern_matcher("/" + value)


def normalize_path(value: str) -> str:
    return value.replace("\\", "/").lower()


def literal_alternation(words: list[str]) -> str:
    """A regex for "any of these literal words", as a prefix tree.

    Branching on shared prefixes lets the regex engine reject most positions
    after one character instead of trying every word in turn.  For a plain
    search (or when a boundary must follow) it matches what ``a|b|c`` does.
    """
    groups: dict[str, list[str]] = {}
    for word in words:
        if word:
            groups.setdefault(word[0], []).append(word[1:])
    parts = []
    for head, tails in sorted(groups.items()):
        rest = [t for t in tails if t]
        if not rest:
            parts.append(re.escape(head))
            continue
        optional = "?" if len(rest) < len(tails) else ""
        parts.append(f"{re.escape(head)}(?:{literal_alternation(rest)}){optional}")
    return "|".join(parts)
