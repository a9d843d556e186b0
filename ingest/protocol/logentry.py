"""The message / logentry interface (protocol doc section 8.2)."""

from __future__ import annotations

from typing import Any

from ._coerce import Ctx, to_str

MESSAGE_CAP = 8192
# Caps for "%<width>.<precision>s": "%999999999s" would allocate a gigabyte.
_MAX_SPEC_DIGITS = 3
_FLAGS = "#0- +"
_DIGITS = "0123456789"
_LENGTH_MODIFIERS = "hlL"
_CONVERSIONS = "sdiouxXeEfFgGcra%"


def normalize_logentry(value: Any, ctx: Ctx, name: str) -> dict[str, Any] | None:
    """``{"message", "formatted"[, "params"]}`` from a string or logentry object.

    ``message`` is the template (grouping prefers it), ``formatted`` the display
    string. @sentry/node's ``parameterize`` sends message + params without
    ``formatted``, so it is interpolated here.
    """
    if isinstance(value, str):
        message: str | None = value
        formatted: str | None = None
        params: Any = None
    elif isinstance(value, dict):
        message = _text(value.get("message"))
        formatted = _text(value.get("formatted"))
        params = value.get("params")
        if params is not None and not isinstance(params, list | dict):
            params = [params]
    else:
        ctx.invalid(name, value)
        return None
    if not message and not formatted:
        return None
    if formatted is None:
        formatted = interpolate(message or "", params)
    if message is None:
        message = formatted
    result: dict[str, Any] = {
        "message": message[:MESSAGE_CAP],
        "formatted": formatted[:MESSAGE_CAP],
    }
    if params is not None:
        result["params"] = params
    return result


def interpolate(template: str, params: Any) -> str:
    """Python-style ``%s`` / ``%(name)s`` interpolation that never raises."""
    if not params or "%" not in template or not _specs_are_safe(template):
        return template
    args = tuple(params) if isinstance(params, list) else params
    try:
        return template % args
    except Exception:  # wrong arity, %d of a string, deep repr, ...: keep the template
        return template


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) or value is None else to_str(value)


def _specs_are_safe(template: str) -> bool:
    """Only plain conversion specs with small widths; no ``*`` widths."""
    end = len(template)
    pos = template.find("%")
    while pos != -1:
        pos += 1
        if pos < end and template[pos] == "(":
            pos = template.find(")", pos)
            if pos == -1:
                return False
            pos += 1
        while pos < end and template[pos] in _FLAGS:
            pos += 1
        pos = _skip_digits(template, pos)
        if pos < 0:
            return False
        if pos < end and template[pos] == ".":
            pos = _skip_digits(template, pos + 1)
            if pos < 0:
                return False
        if pos < end and template[pos] in _LENGTH_MODIFIERS:
            pos += 1
        if pos >= end or template[pos] not in _CONVERSIONS:
            return False
        pos = template.find("%", pos + 1)
    return True


def _skip_digits(template: str, pos: int) -> int:
    start = pos
    end = len(template)
    while pos < end and template[pos] in _DIGITS:
        pos += 1
    return -1 if pos - start > _MAX_SPEC_DIGITS else pos
