"""Applying stack-trace rules to frames.

Rules run in two passes, like the reference implementation:

* the *classifier* pass (``+app``/``-app`` and ``category=``) runs once per
  stack trace, before grouping, and changes the frames themselves;
* the *contributes* pass (``+group``/``-group``, ``max-frames``,
  ``min-frames``) runs per variant on the frame components.

Within a pass rules apply in order, each to every frame it matches, so a later
rule sees the categories and in-app flags set by earlier ones.

Speed matters (every frame of every event meets ~200 built-in rules), so each
rule's tests are split into *static* ones (on fields that never change:
function, module, path, ...) and *dynamic* ones (in-app flag, category,
neighbouring frames, the exception).  Static results are computed once per
distinct frame and remembered; a cheap literal search rejects most rules
before any glob is evaluated.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import budget
from .component import GroupingComponent
from .enhancement_rules import Action, EnhancementRule, parse_rules_text
from .enhancement_ruleset import CompiledRule, MatchFrame, RuleSet, compile_rule
from .event import Exc, Frame

_MEMO_LIMIT = 20_000


def _span(idx: int, rng: str | None, n: int) -> range:
    if rng is None:
        return range(idx, idx + 1)
    if rng == "up":
        return range(idx + 1, n)
    return range(0, idx)


def _match_frames(frames: list[Frame], event_platform: str) -> list[MatchFrame]:
    out = []
    for frame in frames:
        mf = frame.match
        if mf is None:
            mf = frame.match = MatchFrame(frame, event_platform)
        else:
            mf.in_app, mf.category = frame.in_app, frame.category
        out.append(mf)
    return out


class Enhancements:
    """A parsed list of stack-trace rules (built-in base rules first, then the project's)."""

    def __init__(self, rules: Sequence[EnhancementRule], text: str = "") -> None:
        self.rules = list(rules)
        self.text = text
        classifier: list[CompiledRule] = []
        contributes: list[CompiledRule] = []
        for rule in self.rules:
            cls_actions = tuple(a for a in rule.actions if a.name in ("app", "category"))
            con_actions = tuple(a for a in rule.actions if a.name not in ("app", "category"))
            if cls_actions:
                classifier.append(compile_rule(rule, cls_actions))
            if con_actions:
                contributes.append(compile_rule(rule, con_actions))
        self.classifier = classifier
        self.contributes = contributes
        self._sets: dict[tuple[int, str | None], RuleSet] = {}

    @classmethod
    def from_text(cls, text: str, builtin: bool = False) -> Enhancements:
        return cls(parse_rules_text(text, builtin=builtin), text)

    def combined_with(self, base: Enhancements | None) -> Enhancements:
        if base is None:
            return self
        return Enhancements(base.rules + self.rules, self.text)

    def rulesets(self) -> list[RuleSet]:
        return list(self._sets.values())

    def _ruleset(self, which: int, mfs: Sequence[MatchFrame]) -> RuleSet:
        families = {mf.family for mf in mfs}
        family = families.pop() if len(families) == 1 else None
        key = (which, family)
        ruleset = self._sets.get(key)
        if ruleset is None:
            rules = self.classifier if which == 0 else self.contributes
            ruleset = self._sets[key] = RuleSet(rules, family, _MEMO_LIMIT)
        return ruleset

    def classify(self, frames: list[Frame], event_platform: str, exc: Exc | None) -> None:
        """Apply ``+app``/``-app`` and ``category=`` rules to the frames in place."""
        if not frames or not self.classifier:
            return
        mfs = _match_frames(frames, event_platform)
        ruleset = self._ruleset(0, mfs)  # built once per process and platform: not the event's cost
        with budget.section():
            self._classify(frames, mfs, ruleset, exc)

    def _classify(
        self, frames: list[Frame], mfs: list[MatchFrame], ruleset: RuleSet, exc: Exc | None
    ) -> None:
        n = len(frames)
        categories = {mf.category for mf in mfs if mf.category}
        for rule, idxs in ruleset.matches(mfs, exc, categories):
            for idx in idxs:
                for action in rule.actions:
                    if action.name == "category":
                        frames[idx].category = mfs[idx].category = str(action.value)
                        categories.add(str(action.value))
                        continue
                    span = _span(idx, action.range, n)
                    budget.spend(len(span))
                    for j in span:
                        frame = frames[j]
                        if frame.in_app != action.flag:
                            frame.in_app = mfs[j].in_app = action.flag
                            frame.in_app_rule = rule.description

    def assemble(
        self,
        components: list[GroupingComponent],
        frames: list[Frame],
        event_platform: str,
        exc: Exc | None,
    ) -> tuple[bool | None, str | None]:
        """Apply ``+group``/``-group`` and frame-count rules to frame components.

        Returns an explicit ``contributes`` value and hint for the whole stack
        trace when ``min-frames`` discards it, else ``(None, None)``.
        """
        if not frames or not self.contributes:
            return None, None
        mfs = _match_frames(frames, event_platform)
        ruleset = self._ruleset(1, mfs)
        with budget.section():
            return self._assemble(components, mfs, ruleset, exc)

    def _assemble(
        self, components: list[GroupingComponent], mfs: list[MatchFrame], ruleset: RuleSet, exc: Exc | None
    ) -> tuple[bool | None, str | None]:
        n = len(mfs)
        variables: dict[str, tuple[object, str]] = {}
        categories = {mf.category for mf in mfs if mf.category}
        for rule, idxs in ruleset.matches(mfs, exc, categories):
            for idx in idxs:
                for action in rule.actions:
                    if action.name == "group":
                        _set_group(components, idx, n, action, rule.description)
                    elif action.flag is None:
                        variables[action.name] = (action.value, rule.description)
        return _frame_count_limits(components, variables)


def _set_group(
    components: list[GroupingComponent], idx: int, n: int, action: Action, description: str
) -> None:
    span = _span(idx, action.range, n)
    budget.spend(len(span))
    for j in span:
        comp = components[j]
        if comp.contributes != action.flag:
            verb = "un-ignored" if action.flag else "ignored"
            comp.update(contributes=action.flag, hint=f"{verb} by {description}")


def _frame_count_limits(
    components: list[GroupingComponent], variables: dict[str, tuple[object, str]]
) -> tuple[bool | None, str | None]:
    max_frames, max_rule = variables.get("max-frames", (0, ""))
    if isinstance(max_frames, int) and max_frames > 0:
        kept = 0
        for comp in reversed(components):
            if not comp.contributes:
                continue
            kept += 1
            if kept > max_frames:
                comp.update(
                    contributes=False,
                    hint=f"ignored because only {max_frames} frame(s) are considered by {max_rule}",
                )
    min_frames, min_rule = variables.get("min-frames", (0, ""))
    if isinstance(min_frames, int) and min_frames > 0:
        total = sum(1 for c in components if c.contributes)
        if 0 < total < min_frames:
            return False, (
                f"ignored because the stack trace has only {total} contributing frame(s), "
                f"fewer than {min_frames} required by {min_rule}"
            )
    return None, None
