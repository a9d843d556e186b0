"""``_meta``: every replacement recorded in Sentry's shape, merged into what the SDK sent (minus its
original values)."""

from __future__ import annotations

from typing import Any

from .keys import Classifier
from .patterns import scrub_text
from .walker import Record

# Deeper paths are still scrubbed but not recorded in _meta (keeps _meta serialisable).
_MAX_META_DEPTH = 200


def _path_keys(path: Any) -> list[str]:
    keys: list[str] = []
    while path is not None:
        path, k = path
        keys.append(k if type(k) is str else str(k))
    keys.reverse()
    return keys


def _build_meta(rec: list[Record]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for path, rems, orig_len in rec:
        keys = _path_keys(path)
        if len(keys) > _MAX_META_DEPTH or "" in keys:
            # An empty key would read as a meta node marker: such paths are not recorded.
            continue
        node = meta
        for k in keys:
            nxt = node.get(k)
            if type(nxt) is not dict:
                nxt = node[k] = {}
            node = nxt
        leaf = node.get("")
        if type(leaf) is not dict:
            leaf = node[""] = {}
        old = leaf.get("rem")
        if type(old) is list:
            old.extend(rems)
        else:
            leaf["rem"] = list(rems)
        if orig_len is not None and "len" not in leaf:
            leaf["len"] = orig_len
    return meta


def _merge_meta(dst: dict[str, Any], src: dict[str, Any]) -> None:
    stack = [(dst, src)]
    while stack:
        d, s = stack.pop()
        for k, v in s.items():
            cur = d.get(k)
            if k == "":
                if type(cur) is dict:
                    old = cur.get("rem")
                    if type(old) is list:
                        old.extend(v.get("rem", ()))
                    else:
                        cur["rem"] = v.get("rem", [])
                    if "len" in v and "len" not in cur:
                        cur["len"] = v["len"]
                else:
                    d[k] = v
            elif type(cur) is dict and type(v) is dict:
                stack.append((cur, v))
            else:
                d[k] = v


def _sanitise_incoming_meta(meta: Any, cls: Classifier) -> Any:
    """The SDK's own ``_meta`` is kept, minus original values (``val``) and with the in-string
    patterns applied to whatever strings it carries."""
    if type(meta) is str:
        res = scrub_text(meta, cls)
        return meta if res is None else res[0]
    if type(meta) is not dict and type(meta) is not list:
        return meta
    stack: list[Any] = [meta]
    while stack:
        obj = stack.pop()
        if type(obj) is dict:
            leaf = obj.get("")
            if type(leaf) is dict:
                leaf.pop("val", None)
            items: Any = obj.items()
        else:
            items = enumerate(obj)
        for k, v in items:
            tv = type(v)
            if tv is str:
                res = scrub_text(v, cls)
                if res is not None:
                    obj[k] = res[0]
            elif tv is dict or tv is list:
                stack.append(v)
    return meta


def attach_meta(target: dict[str, Any], rec: list[Record], cls: Classifier) -> None:
    incoming = target.get("_meta")
    if incoming is not None:
        incoming = target["_meta"] = _sanitise_incoming_meta(incoming, cls)
    if not rec:
        return
    meta = _build_meta(rec)
    if not meta:
        return
    if type(incoming) is dict:
        _merge_meta(incoming, meta)
    else:
        target["_meta"] = meta
