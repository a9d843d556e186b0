"""Message, security-report and template strategies (the ``default`` variant)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .component import GroupingComponent, make
from .event import EventView, as_str
from .parameterization import normalize_message

DEFAULT = "default"
_SELF = "'self'"


def message_strategy(view: EventView) -> dict[str, GroupingComponent]:
    raw = view.message or view.formatted
    if not raw:
        return {}
    normalized = normalize_message(raw)
    hint = "stripped event-specific values" if normalized != raw else None
    return {DEFAULT: make("message", [normalized], hint=hint)}


def _normalize_uri(value: str | None) -> str:
    if value in (None, "", _SELF, "self"):
        return _SELF
    assert value is not None
    if ":" not in value:
        return urlunsplit((value, "", "", None, None))
    try:
        scheme, host = urlsplit(value)[:2]
    except ValueError:
        return value
    if scheme in ("http", "https"):
        return host
    return urlunsplit((scheme, host, "", None, None))


def csp_strategy(view: EventView) -> dict[str, GroupingComponent]:
    csp = view.data.get("csp")
    if not isinstance(csp, Mapping):
        return {}
    violated = as_str(csp.get("violated_directive"))
    directive = as_str(csp.get("effective_directive")) or (violated.split(" ", 1)[0] if violated else None)
    uri = _normalize_uri(as_str(csp.get("blocked_uri")))
    local_type = None
    if violated and directive == "script-src" and uri == _SELF:
        if "'unsafe-inline'" in violated:
            local_type = "unsafe-inline"
        elif "'unsafe-eval'" in violated:
            local_type = "unsafe-eval"
    if local_type:
        violation = make("violation", [f"'{local_type}'"])
        uri_comp = make(
            "uri", [uri], contributes=False, hint="ignored because the violation takes precedence"
        )
    else:
        violation = make(
            "violation", contributes=False, hint="ignored because it is not a local script violation"
        )
        uri_comp = make("uri", [uri])
    salt = make("salt", [directive or ""], hint="a static salt")
    return {DEFAULT: make("csp", [salt, violation, uri_comp])}


def _hostname_report(view: EventView, key: str, salt: str) -> dict[str, GroupingComponent]:
    report: Any = view.data.get(key)
    if not isinstance(report, Mapping):
        return {}
    hostname = as_str(report.get("hostname")) or ""
    values: list[GroupingComponent | str] = [
        make("salt", [salt], hint="a static salt"),
        make("hostname", [hostname]),
    ]
    return {DEFAULT: make(salt, values)}


def hpkp_strategy(view: EventView) -> dict[str, GroupingComponent]:
    return _hostname_report(view, "hpkp", "hpkp")


def expect_staple_strategy(view: EventView) -> dict[str, GroupingComponent]:
    return _hostname_report(view, "expectstaple", "expect-staple")


def expect_ct_strategy(view: EventView) -> dict[str, GroupingComponent]:
    return _hostname_report(view, "expectct", "expect-ct")


def template_strategy(view: EventView) -> dict[str, GroupingComponent]:
    template = view.data.get("template")
    if not isinstance(template, Mapping):
        return {}
    filename = as_str(template.get("filename"))
    context_line = as_str(template.get("context_line"))
    values: list[GroupingComponent | str] = [
        make("filename", [filename] if filename is not None else []),
        make("context_line", [context_line] if context_line is not None else []),
    ]
    return {DEFAULT: make("template", values)}
