"""Compiled stack-trace rules and fast matching against frames.

See ``enhancements`` for how the passes use this.  A rule's tests are split
into static tests (fields of the frame itself that never change) and dynamic
tests (in-app flag, category, neighbouring frames).  Static results are
remembered per distinct frame; a literal that any match must contain
("gate") lets a single regular-expression search reject most rules at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import budget
from .enhancement_rules import EXCEPTION_KEYS, Action, EnhancementRule, Matcher, bool_from_string
from .event import Exc, Frame, behavior_family
from .glob import compile_glob, literal_alternation, normalize_path, path_match

FrameTest = Callable[["MatchFrame"], bool]
ExcTest = Callable[[Exc | None], bool]
STATIC_KEYS = frozenset(("family", "function", "module", "package", "path", "filename"))
_PATH_KEYS = frozenset(("package", "path", "filename"))
_WILDCARDS = re.compile(r"\[[^\]]*\]|[*?]")


class MatchFrame:
    """The frame fields rules look at, normalised once per frame."""

    __slots__ = ("family", "function", "module", "package", "path", "filename", "in_app", "category", "key")

    def __init__(self, frame: Frame, event_platform: str) -> None:
        self.family = behavior_family(frame.platform or event_platform)
        self.function = frame.function or "<unknown>"
        self.module = frame.module
        self.package = normalize_path(frame.package) if frame.package else None
        path = frame.abs_path or frame.filename
        self.path = normalize_path(path) if path else None
        self.filename = normalize_path(frame.filename) if frame.filename else None
        self.in_app = frame.in_app
        self.category = frame.category
        self.key = (self.family, self.function, self.module, self.package, self.path, self.filename)


def _frame_test(m: Matcher) -> FrameTest:
    key, pattern = m.key, m.pattern
    test: FrameTest
    if key == "family":
        flags = frozenset(pattern.split(","))
        test = (lambda mf: True) if "all" in flags else (lambda mf: mf.family in flags)
    elif key == "app":
        wanted = bool_from_string(pattern)
        test = lambda mf: mf.in_app is not None and mf.in_app == wanted  # noqa: E731
    elif key in _PATH_KEYS:
        glob = compile_glob(pattern.lower(), doublestar=True)
        test = lambda mf: (v := getattr(mf, key)) is not None and path_match(glob, v)  # noqa: E731
    elif key == "function":
        glob = compile_glob(pattern)
        test = lambda mf: glob(mf.function)  # noqa: E731
    else:
        glob = compile_glob(pattern)
        test = lambda mf: (v := getattr(mf, key)) is not None and glob(v)  # noqa: E731
    if m.negated:
        positive = test
        return lambda mf: not positive(mf)
    return test


def _exc_test(m: Matcher) -> ExcTest:
    glob = compile_glob(m.pattern)
    attr = {"type": "type", "value": "value", "mechanism": "mechanism_type"}[m.key]

    def test(exc: Exc | None) -> bool:
        value = getattr(exc, attr, None) if exc is not None else None
        return glob(value or "<unknown>") != m.negated

    return test


def required_literal(pattern: str) -> str:
    """Longest piece of text every value matching the glob must contain."""
    return max(_WILDCARDS.split(pattern), key=len, default="")


@dataclass(slots=True)
class CompiledRule:
    description: str
    actions: tuple[Action, ...]
    static: list[FrameTest]
    dynamic: list[tuple[int, FrameTest]]
    exc_tests: list[ExcTest]
    families: frozenset[str] | None = None
    gate: tuple[str, str] | None = None
    required_category: str | None = None

    def static_ok(self, mf: MatchFrame) -> bool:
        return all(test(mf) for test in self.static)

    def dynamic_ok(self, mfs: Sequence[MatchFrame], idx: int) -> bool:
        n = len(mfs)
        for offset, test in self.dynamic:
            j = idx + offset
            if j < 0 or j >= n or not test(mfs[j]):
                return False
        return True


def _gate(static: list[Matcher]) -> tuple[str, str] | None:
    best: tuple[str, str] | None = None
    for m in static:
        if m.negated or m.key == "family":
            continue
        pattern = m.pattern.lower() if m.key in _PATH_KEYS else m.pattern
        literal = required_literal(pattern)
        if literal and (best is None or len(literal) > len(best[1])):
            best = (m.key, literal)
    return best


def compile_rule(rule: EnhancementRule, actions: tuple[Action, ...]) -> CompiledRule:
    origin = "built-in" if rule.builtin else "custom"
    static = [m for m in rule.matchers if m.offset == 0 and m.key in STATIC_KEYS]
    dynamic = [m for m in rule.matchers if m.key not in EXCEPTION_KEYS and m not in static]
    families = None
    for m in static:
        if m.key == "family" and not m.negated and "all" not in m.pattern.split(","):
            families = frozenset(m.pattern.split(","))
    required_category = None
    for m in dynamic:
        if m.key == "category" and m.offset == 0 and not m.negated and not _WILDCARDS.search(m.pattern):
            required_category = m.pattern
    return CompiledRule(
        description=f"{origin} stack trace rule ({rule.text})",
        actions=actions,
        static=[_frame_test(m) for m in static],
        dynamic=[(m.offset, _frame_test(m)) for m in dynamic],
        exc_tests=[_exc_test(m) for m in rule.matchers if m.key in EXCEPTION_KEYS],
        families=families,
        gate=_gate(static),
        required_category=required_category,
    )


@dataclass(slots=True)
class RuleSet:
    """The rules of one pass that can apply to frames of one platform family."""

    all_rules: list[CompiledRule]
    family: str | None
    memo_limit: int
    rules: list[CompiledRule] = field(init=False)
    always: list[int] = field(init=False)
    gates: dict[str, tuple[re.Pattern[str], list[tuple[str, list[int]]]]] = field(init=False)
    ungated: list[int] = field(init=False)
    memo: dict[Any, tuple[int, ...]] = field(init=False)

    def __post_init__(self) -> None:
        fam = self.family
        self.rules = [r for r in self.all_rules if fam is None or r.families is None or fam in r.families]
        self.always, self.ungated, self.memo = [], [], {}
        literals: dict[str, dict[str, list[int]]] = {}
        for idx, rule in enumerate(self.rules):
            if not rule.static:
                self.always.append(idx)
            elif rule.gate is None:
                self.ungated.append(idx)
            else:
                literals.setdefault(rule.gate[0], {}).setdefault(rule.gate[1], []).append(idx)
        self.gates = {}
        for key, by_literal in literals.items():
            self.gates[key] = (re.compile(literal_alternation(list(by_literal))), list(by_literal.items()))

    def candidates(self, mf: MatchFrame) -> tuple[int, ...]:
        """Indices of rules whose static tests pass for this frame."""
        hit = self.memo.get(mf.key)
        if hit is not None:
            return hit
        maybe = list(self.ungated)
        for key, (regex, by_literal) in self.gates.items():
            value = getattr(mf, key)
            if value is None:
                continue
            if key in _PATH_KEYS:
                value = "/" + value
            if regex.search(value) is not None:
                budget.spend(len(by_literal))
                for literal, members in by_literal:
                    if literal in value:
                        maybe.extend(members)
        rules = self.rules
        budget.spend(len(maybe))
        result = tuple(sorted(i for i in maybe if rules[i].static_ok(mf)))
        if len(self.memo) >= self.memo_limit:
            self.memo.clear()
        self.memo[mf.key] = result
        return result

    def matches(
        self, mfs: Sequence[MatchFrame], exc: Exc | None, categories: set[str]
    ) -> Iterator[tuple[CompiledRule, list[int]]]:
        """(rule, matching frame indices) in rule order, evaluated lazily.

        ``categories`` must hold every category currently set on the frames;
        the caller adds to it while it applies rules.
        """
        per_rule: dict[int, list[int]] = {}
        deadline = budget.current()
        for fi, mf in enumerate(mfs):
            candidates = self.candidates(mf)
            if deadline is not None:
                deadline.spend(len(candidates) + 1)
            for ri in candidates:
                per_rule.setdefault(ri, []).append(fi)
        every = list(range(len(mfs)))
        for ri in sorted(per_rule.keys() | set(self.always)):
            rule = self.rules[ri]
            if rule.required_category is not None and rule.required_category not in categories:
                continue
            if rule.exc_tests and not all(t(exc) for t in rule.exc_tests):
                continue
            frames = per_rule.get(ri, every)
            budget.spend(len(frames))
            idxs = [fi for fi in frames if rule.dynamic_ok(mfs, fi)] if rule.dynamic else frames
            if idxs:
                yield rule, idxs
