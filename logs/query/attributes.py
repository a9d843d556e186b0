"""Typed attribute values of a log record: one home for the protocol's type names. Pure, no Django;
ingest's protocol (typing records) and the log store (serializing them) both read it."""

from __future__ import annotations

AttributeValue = str | int | float | bool


# By exact type: a bool is an int in Python, but type(True) is bool. One lookup, as the worker
# names the type of every attribute of every record.
_TYPE_NAMES: dict[type, str] = {str: "string", int: "integer", float: "double", bool: "boolean"}


def attribute_type(value: AttributeValue) -> str:
    """The protocol's name for a stored value's type."""
    return _TYPE_NAMES.get(type(value), "string")
