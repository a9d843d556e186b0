"""LightTrace's grouping engine: which events belong to the same issue.

Pure Python, no Django.  ``compute_grouping(event)`` returns every hash an
event can be grouped under (primary first), the component tree explaining
each one, and the id of the grouping config that produced them.  The default
config, ``newstyle:2023-01-11``, reproduces Sentry's default grouping so that
projects moving from Sentry keep their issues.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .budget import RuleBudget, RulesOverBudget
from .component import GroupingComponent
from .config import DEFAULT_CONFIG_ID, get_config_ids
from .engine import compute_grouping as _compute_grouping
from .enhancements import Enhancements
from .errors import RuleSyntaxError
from .fingerprint_rules import FingerprintRules
from .memo import GroupingMemo
from .result import GroupingResult, GroupingVariant

__all__ = [
    "DEFAULT_CONFIG_ID",
    "Enhancements",
    "FingerprintRules",
    "GroupingComponent",
    "GroupingMemo",
    "GroupingResult",
    "GroupingVariant",
    "RuleBudget",
    "RuleSyntaxError",
    "RulesOverBudget",
    "compute_grouping",
    "get_config_ids",
    "parse_enhancements",
    "parse_fingerprint_rules",
]


def compute_grouping(
    event: Mapping[str, Any],
    *,
    config_id: str = DEFAULT_CONFIG_ID,
    fingerprint_rules: FingerprintRules | None = None,
    enhancements: Enhancements | None = None,
    memo: GroupingMemo | None = None,
    budget: RuleBudget | None = None,
) -> GroupingResult:
    """Group one event.  Never raises, whatever the shape of ``event``.

    With a ``memo``, events shaped like earlier ones reuse their hashes and title (the result then
    has no variants); see issues/grouping/memo.py. With a ``budget``, grouping with the project's
    rules stops when it has used up that much CPU time, and the event is grouped without them
    (``result.rules_over_budget``); see issues/grouping/budget.py."""
    return _compute_grouping(
        event,
        config_id=config_id,
        fingerprint_rules=fingerprint_rules,
        enhancements=enhancements,
        memo=memo,
        budget=budget,
    )


# Rules are tenant input matched against every event on shared workers: bounded in size.
MAX_RULES_CHARS = 64 * 1024
MAX_RULE_LINE_CHARS = 1000


def _check_rules_size(text: str) -> None:
    if not isinstance(text, str):
        return  # the parsers say "rules must be text"
    if len(text) > MAX_RULES_CHARS:
        raise RuleSyntaxError(1, f"rules are longer than {MAX_RULES_CHARS:,} characters")
    for lineno, line in enumerate(text.splitlines(), 1):
        if len(line) > MAX_RULE_LINE_CHARS:
            raise RuleSyntaxError(lineno, f"a rule is longer than {MAX_RULE_LINE_CHARS:,} characters")


def parse_fingerprint_rules(text: str) -> FingerprintRules:
    """Parse project fingerprint rules; raises ``RuleSyntaxError`` on bad input."""
    _check_rules_size(text)
    return FingerprintRules.from_text(text)


def parse_enhancements(text: str) -> Enhancements:
    """Parse project stack-trace rules; raises ``RuleSyntaxError`` on bad input."""
    _check_rules_size(text)
    return Enhancements.from_text(text)
