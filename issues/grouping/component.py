"""The grouping component tree.

Every grouping result carries a tree of components.  Leaves hold the literal
strings that go into the hash; inner nodes say which part of the event they
describe (exception, stack trace, frame, ...).  Each node records whether it
contributes to the hash and, if not, why (``hint``).  The hash of a variant is
the md5 of the UTF-8 bytes of all contributing leaf values, in tree order.

``contributes`` follows one rule: when a node is created (or its values are
replaced) without an explicit flag, it contributes if any child is a literal or
a contributing component.  Later changes to a child do *not* propagate upwards;
that mirrors the reference implementation, whose hashes we reproduce.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Union

Value = Union["GroupingComponent", str]


def _derive_contributes(values: list[Value]) -> bool:
    for value in values:
        if not isinstance(value, GroupingComponent) or value.contributes:
            return True
    return False


@dataclass(slots=True, eq=False)
class GroupingComponent:
    id: str
    contributes: bool
    hint: str | None
    values: list[Value]
    # Only set on frame components: whether the frame counts as in-app.
    in_app: bool | None = field(default=None)

    def update(
        self,
        *,
        hint: str | None = None,
        contributes: bool | None = None,
        values: list[Value] | None = None,
    ) -> None:
        """Change a component in place (a ``None`` argument keeps the old value)."""
        if hint is not None:
            self.hint = hint
        if values is not None:
            if contributes is None:
                contributes = _derive_contributes(values)
            self.values = values
        if contributes is not None:
            self.contributes = contributes

    def iter_values(self) -> list[str]:
        """Contributing leaf values in tree order (empty if this node does not contribute)."""
        out: list[str] = []
        if self.contributes:
            _collect(self, out)
        return out

    def get_hash(self) -> str | None:
        if not self.contributes:
            return None
        return hash_values(self.iter_values())

    def find(self, component_id: str, *, only_contributing: bool = False) -> GroupingComponent | None:
        """First descendant with the given id (depth first)."""
        for value in self.values:
            if not isinstance(value, GroupingComponent):
                continue
            if only_contributing and not value.contributes:
                continue
            if value.id == component_id:
                return value
            found = value.find(component_id, only_contributing=only_contributing)
            if found is not None:
                return found
        return None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "contributes": self.contributes,
            "hint": self.hint,
            "values": [v.to_dict() if isinstance(v, GroupingComponent) else v for v in self.values],
        }
        if self.in_app is not None:
            out["in_app"] = self.in_app
        return out

    def signature(self) -> tuple[Any, ...]:
        """A hashable, structural description (used to compare exception trees)."""
        return (
            self.id,
            self.contributes,
            self.hint,
            tuple(v.signature() if isinstance(v, GroupingComponent) else v for v in self.values),
        )


def _collect(component: GroupingComponent, out: list[str]) -> None:
    for value in component.values:
        if type(value) is str:
            out.append(value)
        elif value.contributes:  # type: ignore[union-attr]
            _collect(value, out)  # type: ignore[arg-type]


def make(
    component_id: str,
    values: list[Value] | None = None,
    *,
    hint: str | None = None,
    contributes: bool | None = None,
    in_app: bool | None = None,
) -> GroupingComponent:
    """Build a component, deriving ``contributes`` from the values unless given."""
    vals: list[Value] = values if values is not None else []
    if contributes is None:
        contributes = _derive_contributes(vals)
    return GroupingComponent(component_id, contributes, hint, vals, in_app)


def hash_values(values: Iterable[str]) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    for value in values:
        digest.update(value.encode("utf-8", "replace"))
    return digest.hexdigest()


EMPTY_HASH = hash_values(())
