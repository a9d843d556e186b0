"""Typed attribute values of a log record: one home for the protocol's type names. Pure, no Django;
ingest's protocol (typing records) and the log store (serializing them) both read it."""

from __future__ import annotations

AttributeValue = str | int | float | bool


def attribute_type(value: AttributeValue) -> str:
    """The protocol's name for a stored value's type (bool before int: a bool is an int in Python)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "double"
    return "string"
