"""Scrubbing one structured log record (``body`` and ``attributes`` of ``{value, type}``)."""

from __future__ import annotations

from typing import Any

from .config import DEFAULT_SCRUB_CONFIG, FILTERED, FILTERED_LEN, RULE_IP, ScrubConfig
from .event import fail_closed
from .keys import IP, RULE_FOR_CODE, SAFE, classifier_for
from .meta import attach_meta
from .patterns import scrub_text
from .walker import M_KEYS, Record, filtered_value, walk


def scrub_log(log: dict[str, Any], config: ScrubConfig = DEFAULT_SCRUB_CONFIG) -> dict[str, Any]:
    """Scrub one structured log record (``body`` + ``attributes`` of ``{value, type}``) in place
    and return it.  Never raises on JSON-shaped input."""
    if type(log) is not dict or not config.enabled:
        return log
    try:
        cls = classifier_for(config)
        rec: list[Record] = []
        stack: list[tuple[Any, Any, int]] = []
        attrs = log.get("attributes")
        if type(attrs) is dict:
            apath = (None, "attributes")
            for name, attr in attrs.items():
                code = cls.classify(name)
                if code == SAFE:
                    continue
                is_typed = type(attr) is dict and "value" in attr
                v = attr["value"] if is_typed else attr
                vpath = ((apath, name), "value") if is_typed else (apath, name)
                if code:
                    if code == IP:
                        replace, orig_len = (
                            (v is not None and v != FILTERED),
                            (len(v) if type(v) is str else None),
                        )
                        rule = RULE_IP
                    else:
                        replace, orig_len = filtered_value(v)
                        rule = RULE_FOR_CODE[code]
                    if replace:
                        if is_typed:
                            attr["value"] = FILTERED
                            if "type" in attr:
                                attr["type"] = "string"
                        else:
                            attrs[name] = FILTERED
                        rec.append((vpath, [[rule, "s", 0, FILTERED_LEN]], orig_len))
                    continue
                tv = type(v)
                if tv is str:
                    res = scrub_text(v, cls)
                    if res is not None:
                        if is_typed:
                            attr["value"] = res[0]
                        else:
                            attrs[name] = res[0]
                        rec.append((vpath, res[1], len(v)))
                elif tv is dict or tv is list:
                    stack.append((v, vpath, M_KEYS))
        elif type(attrs) is list:
            stack.append((attrs, (None, "attributes"), M_KEYS))
        for k, v in log.items():
            if k == "attributes" or k == "_meta":
                continue
            tv = type(v)
            if tv is str:
                res = scrub_text(v, cls)
                if res is not None:
                    log[k] = res[0]
                    rec.append(((None, k), res[1], len(v)))
            elif tv is dict or tv is list:
                stack.append((v, (None, k), M_KEYS))
        walk(stack, cls, rec)
        attach_meta(log, rec, cls)
    except Exception:  # noqa: BLE001
        fail_closed(log)
    return log
