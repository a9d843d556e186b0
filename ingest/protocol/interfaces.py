"""Normalizers for the data-bag interfaces: tags, breadcrumbs, request, user,
contexts, fingerprint. Each takes ``(value, ctx, name)`` and returns the
normalized value, or None to drop the field (after recording why in ctx).
"""

from __future__ import annotations

from typing import Any

from ._coerce import Ctx, keep_if, lenient_str, normalize_level, parse_timestamp, to_str, values_list

TAG_CAP = 200
MAX_BREADCRUMBS = 100
# Typed user fields (Relay's User); any other key is kept as the SDK sent it.
_USER_LENIENT_STRINGS = ("id", "username")
_USER_STRINGS = ("email", "name", "segment", "sentry_user")
_USER_OBJECTS = ("data", "geo")


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return to_str(value)
    return None


def _tag_text(value: Any) -> str | None:
    text = _scalar_text(value)
    return None if text is None else text[:TAG_CAP]


def normalize_tags(value: Any, ctx: Ctx, name: str) -> list[Any] | None:
    if isinstance(value, dict):
        pairs: Any = value.items()
    elif isinstance(value, list):
        pairs = value
    else:
        ctx.invalid(name, value)
        return None
    result = []
    for index, pair in enumerate(pairs):
        if isinstance(pair, list | tuple) and len(pair) == 2:
            key, val = _tag_text(pair[0]), _tag_text(pair[1])
            if key and val:
                result.append([key, val])
                continue
        ctx.invalid(f"{name}.{index}", pair)
    return result


def normalize_breadcrumbs(value: Any, ctx: Ctx, name: str) -> dict[str, Any] | None:
    crumbs = values_list(value, ctx, name)
    if not crumbs:
        return None
    # SDKs already keep only the newest 100; this guards the storage side.
    offset = max(0, len(crumbs) - MAX_BREADCRUMBS)
    result = []
    for index in range(offset, len(crumbs)):
        crumb = _breadcrumb(crumbs[index], ctx, f"{name}.values.{index}")
        if crumb is not None:
            result.append(crumb)
    return {"values": result} if result else None


def _breadcrumb(crumb: Any, ctx: Ctx, path: str) -> dict[str, Any] | None:
    if not isinstance(crumb, dict):
        ctx.invalid(path, crumb)
        return None
    out = dict(crumb)
    raw_ts = out.get("timestamp")
    timestamp = parse_timestamp(raw_ts)
    if timestamp is None:
        if raw_ts is not None:
            ctx.invalid(f"{path}.timestamp", raw_ts)
        timestamp = ctx.timestamp
    out["timestamp"] = timestamp
    crumb_type = out.get("type")
    if not isinstance(crumb_type, str) or not crumb_type:
        if crumb_type is not None and crumb_type != "":
            ctx.invalid(f"{path}.type", crumb_type)
        out["type"] = "default"
    out["level"] = normalize_level(out.get("level"), "info", ctx, f"{path}.level")
    for key in ("category", "message"):
        text = out.get(key)
        if text is None:
            out.pop(key, None)
        elif not isinstance(text, str):
            out[key] = to_str(text)
    keep_if(out, "data", dict, ctx, path)
    return out


def _pairs(value: Any, ctx: Ctx, path: str) -> list[Any] | None:
    """Headers / cookies / query as ``[[name, value], ...]`` string pairs."""
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = value
    else:
        ctx.invalid(path, value)
        return None
    result = []
    for index, item in enumerate(items):
        if isinstance(item, list | tuple) and len(item) == 2 and isinstance(item[0], str):
            key, val = item
            # Multi-valued headers/query params arrive as lists of strings.
            for one in val if isinstance(val, list) else (val,):
                text = _scalar_text(one)
                if text is not None:
                    result.append([key, text])
                elif one is not None:
                    ctx.invalid(f"{path}.{index}", item)
                    break
            continue
        ctx.invalid(f"{path}.{index}", item)
    return result


def normalize_request(value: Any, ctx: Ctx, name: str) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        ctx.invalid(name, value)
        return None
    out = dict(value)
    for key, strings_ok in (("headers", False), ("cookies", True), ("query_string", True)):
        field = out.get(key)
        if field is None:
            out.pop(key, None)
            continue
        if strings_ok and isinstance(field, str):
            continue
        pairs = _pairs(field, ctx, f"{name}.{key}")
        if pairs is None:
            del out[key]
        else:
            out[key] = pairs
    keep_if(out, "url", str, ctx, name)
    keep_if(out, "method", str, ctx, name)
    keep_if(out, "env", dict, ctx, name)
    return out


def normalize_user(value: Any, ctx: Ctx, name: str) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        ctx.invalid(name, value)
        return None
    out = dict(value)
    if out.get("ip_address") == "{{auto}}":
        # "{{auto}}" asks the server to fill in the request's remote address.
        out["ip_address"] = ctx.client_ip or None
    keep_if(out, "ip_address", str, ctx, name)
    for key in _USER_LENIENT_STRINGS:
        text = out.get(key)
        if text is not None and not isinstance(text, str):
            # Relay's LenientString: 42 becomes "42", an object or a list is dropped.
            out[key] = lenient_str(text)
            if out[key] is None:
                ctx.invalid(f"{name}.{key}", text)
        keep_if(out, key, str, ctx, name)
    for key in _USER_STRINGS:
        keep_if(out, key, str, ctx, name)
    for key in _USER_OBJECTS:
        keep_if(out, key, dict, ctx, name)
    return out or None


def normalize_contexts(value: Any, ctx: Ctx, name: str) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        ctx.invalid(name, value)
        return None
    out = {}
    for key, context in value.items():
        if not isinstance(context, dict):
            if context is not None:
                ctx.invalid(f"{name}.{key}", context, (name, str(key)))
            continue
        if isinstance(context.get("type"), str):
            out[key] = context
        else:
            # The context's type is implied by its key ("os", "runtime", ...).
            out[key] = {**context, "type": key}
    return out


def normalize_object(value: Any, ctx: Ctx, name: str) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return value
    ctx.invalid(name, value)
    return None


def normalize_fingerprint(value: Any, ctx: Ctx, name: str) -> list[Any] | None:
    if not isinstance(value, list):
        ctx.invalid(name, value)
        return None
    result = []
    for index, entry in enumerate(value):
        if isinstance(entry, str):
            result.append(entry)
        elif isinstance(entry, int | float):
            # str(), not JSON: Sentry's fingerprints mimic Python ("True").
            result.append(str(entry))
        elif entry is not None:
            ctx.invalid(f"{name}.{index}", entry)
    return result or None
