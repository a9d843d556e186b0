"""Grouping results: variants and the overall result handed to the rest of the app."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .component import GroupingComponent

# Order in which contributing hashes are listed (lower first); "system" always last.
_VARIANT_RANK = {"system": 1}


@dataclass(slots=True)
class GroupingVariant:
    """One way of hashing the event (app frames only, all frames, a fingerprint, ...)."""

    name: str
    hash: str | None
    contributes: bool
    hint: str | None
    component: GroupingComponent | None
    # Human readable kind, e.g. "component", "custom_fingerprint", "salted_component".
    type: str = "component"
    # Fingerprint values for fingerprint-based (and salted) variants.
    values: list[str] | None = field(default=None)
    # For fingerprint variants: the rule that matched, or the client fingerprint.
    matched_rule: str | None = field(default=None)
    client_values: list[str] | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "hash": self.hash,
            "contributes": self.contributes,
            "hint": self.hint,
            "component": self.component.to_dict() if self.component is not None else None,
        }
        if self.values is not None:
            out["values"] = list(self.values)
        if self.matched_rule is not None:
            out["matched_rule"] = self.matched_rule
        if self.client_values is not None:
            out["client_values"] = list(self.client_values)
        return out


@dataclass(slots=True)
class GroupingResult:
    config_id: str
    hashes: list[str]
    variants: list[GroupingVariant]
    title: str | None = None
    # The project's rules used up the RuleBudget: this result was computed without them.
    rules_over_budget: bool = False

    @property
    def primary_hash(self) -> str:
        return self.hashes[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "config_id": self.config_id,
            "primary_hash": self.primary_hash,
            "hashes": list(self.hashes),
            "title": self.title,
            "variants": [v.to_dict() for v in self.variants],
        }


def collect_hashes(variants: list[GroupingVariant]) -> list[str]:
    """Contributing hashes, highest priority first, system last, without duplicates."""
    ordered = sorted(variants, key=lambda v: _VARIANT_RANK.get(v.name, 0))
    seen: dict[str, None] = {}
    for variant in ordered:
        if variant.contributes and variant.hash:
            seen.setdefault(variant.hash, None)
    return list(seen)
