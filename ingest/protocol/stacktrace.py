"""Normalization of the exception, threads and stacktrace interfaces."""

from __future__ import annotations

from typing import Any

from ._coerce import Ctx, as_int, keep_if, to_str, values_list

# Sentry's message cap; an exception value is displayed like a message.
_VALUE_CAP = 8192
_TYPE_CAP = 256

_STR, _INT, _BOOL, _ADDR, _LINES, _VARS = range(6)
_FRAME_FIELDS = {
    "filename": _STR,
    "abs_path": _STR,
    "module": _STR,
    "function": _STR,
    "raw_function": _STR,
    "package": _STR,
    "platform": _STR,
    "context_line": _STR,
    "symbol": _STR,
    "addr_mode": _STR,
    "trust": _STR,
    "lineno": _INT,
    "colno": _INT,
    "in_app": _BOOL,
    "stack_start": _BOOL,
    "instruction_addr": _ADDR,
    "symbol_addr": _ADDR,
    "image_addr": _ADDR,
    "pre_context": _LINES,
    "post_context": _LINES,
    "vars": _VARS,
}
_BOOL_MECHANISM_FIELDS = ("handled", "synthetic", "is_exception_group")
_DICT_MECHANISM_FIELDS = ("data", "meta")
_BOOL_THREAD_FIELDS = ("crashed", "current", "main")


def normalize_exception(value: Any, ctx: Ctx, name: str) -> dict[str, Any] | None:
    """Any accepted form -> ``{"values": [...]}``, or None if nothing is left."""
    if isinstance(value, dict) and "values" not in value:
        # Legacy single-exception form: {"type": ..., "value": ...}.
        if not ("type" in value or "value" in value or "stacktrace" in value):
            ctx.invalid(name, value)
            return None
        values: list[Any] | None = [value]
    else:
        values = values_list(value, ctx, name)
    if values is None:
        return None
    result = []
    for index, exc in enumerate(values):
        normalized = _exception_value(exc, ctx, f"{name}.values.{index}")
        if normalized is not None:
            result.append(normalized)
    return {"values": result} if result else None


def normalize_threads(value: Any, ctx: Ctx, name: str) -> dict[str, Any] | None:
    values = values_list(value, ctx, name)
    if values is None:
        return None
    result = []
    for index, thread in enumerate(values):
        path = f"{name}.values.{index}"
        if not isinstance(thread, dict):
            ctx.invalid(path, thread)
            continue
        out = dict(thread)
        _stacktrace_fields(out, ctx, path)
        for key in _BOOL_THREAD_FIELDS:
            keep_if(out, key, bool, ctx, path)
        keep_if(out, "name", str, ctx, path)
        tid = out.get("id")
        if tid is None:
            out.pop("id", None)
        elif isinstance(tid, bool) or not isinstance(tid, int | str):
            ctx.invalid(f"{path}.id", out.pop("id"))
        result.append(out)
    return {"values": result} if result else None


def normalize_stacktrace(value: Any, ctx: Ctx, name: str) -> dict[str, Any] | None:
    """``{"frames": [dict, ...], ...}`` or None when there is no usable frame."""
    if not isinstance(value, dict):
        ctx.invalid(name, value)
        return None
    frames = value.get("frames")
    if not isinstance(frames, list):
        if frames is not None:
            ctx.invalid(f"{name}.frames", frames)
        return None
    out = dict(value)
    result = []
    for index, frame in enumerate(frames):
        if isinstance(frame, dict):
            result.append(_frame(frame, ctx, name, index))
        else:
            ctx.invalid(f"{name}.frames.{index}", frame)
    if not result:
        return None
    out["frames"] = result
    registers = out.get("registers")
    if registers is not None and not isinstance(registers, dict):
        ctx.invalid(f"{name}.registers", out.pop("registers"))
    return out


def _exception_value(exc: Any, ctx: Ctx, path: str) -> dict[str, Any] | None:
    if not isinstance(exc, dict):
        ctx.invalid(path, exc)
        return None
    out = dict(exc)
    exc_type = out.get("type")
    if exc_type is not None:
        if isinstance(exc_type, str | int | float):
            out["type"] = (to_str(exc_type) or "")[:_TYPE_CAP]
        else:
            ctx.invalid(f"{path}.type", out.pop("type"))
    exc_value = out.get("value")
    if exc_value is not None:
        # Relay stringifies non-string values (JsonLenientString) instead of dropping.
        out["value"] = (to_str(exc_value) or "")[:_VALUE_CAP]
    keep_if(out, "module", str, ctx, path)
    mechanism = out.get("mechanism")
    if mechanism is not None:
        if isinstance(mechanism, dict):
            out["mechanism"] = _mechanism(mechanism, ctx, f"{path}.mechanism")
        else:
            ctx.invalid(f"{path}.mechanism", out.pop("mechanism"))
    _stacktrace_fields(out, ctx, path)
    tid = out.get("thread_id")
    if tid is not None and (isinstance(tid, bool) or not isinstance(tid, int | str)):
        ctx.invalid(f"{path}.thread_id", out.pop("thread_id"))
    if not (out.get("type") or out.get("value") or "stacktrace" in out):
        # Relay removes such an exception too, recording the original under missing_attribute.
        ctx.error("missing_attribute", path, exc, data={"attribute": "type or value"})
        return None
    # Keep explicit nulls out of the normalized form.
    return {k: v for k, v in out.items() if v is not None}


def _mechanism(mechanism: dict[str, Any], ctx: Ctx, path: str) -> dict[str, Any]:
    out = dict(mechanism)
    if not isinstance(out.get("type"), str) or not out["type"]:
        if out.get("type") is not None:
            ctx.invalid(f"{path}.type", out["type"])
        out["type"] = "generic"
    for key in _BOOL_MECHANISM_FIELDS:
        keep_if(out, key, bool, ctx, path)
    for key in _DICT_MECHANISM_FIELDS:
        keep_if(out, key, dict, ctx, path)
    for key in ("exception_id", "parent_id"):
        raw = out.get(key)
        if raw is not None:
            number = as_int(raw)
            if number is None:
                ctx.invalid(f"{path}.{key}", out.pop(key))
            else:
                out[key] = number
    return out


def _stacktrace_fields(out: dict[str, Any], ctx: Ctx, path: str) -> None:
    for key in ("stacktrace", "raw_stacktrace"):
        if key in out:
            value = out.pop(key)
            if value is not None:
                normalized = normalize_stacktrace(value, ctx, f"{path}.{key}")
                if normalized is not None:
                    out[key] = normalized


def _frame(frame: dict[str, Any], ctx: Ctx, base: str, index: int) -> dict[str, Any]:
    # The hot loop for 1000-frame traces: one pass over the frame's own keys,
    # exact-type fast paths inline, helpers only for the unusual values.
    out = {}
    for key, value in frame.items():
        kind = _FRAME_FIELDS.get(key)
        if kind is None:
            out[key] = value
            continue
        if value is None:
            continue
        fixed: Any
        if kind == _STR:
            fixed = value if type(value) is str else None
        elif kind == _INT:
            fixed = value if type(value) is int and value >= 0 else as_int(value)
        elif kind == _BOOL:
            fixed = value if type(value) is bool else None
        elif kind == _LINES:
            fixed = _lines(value)
        elif kind == _VARS:
            fixed = _vars(value)
        else:
            fixed = _address(value)
        if fixed is None:
            ctx.invalid(f"{base}.frames.{index}.{key}", value)
        else:
            out[key] = fixed
    return out


def _lines(value: Any) -> list[Any] | None:
    if type(value) is not list:
        return None
    for line in value:
        if type(line) is not str:
            return [line if isinstance(line, str) else (to_str(line) or "") for line in value]
    return value


def _vars(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return value
    # Some SDKs send positional locals as an array.
    return {str(i): v for i, v in enumerate(value)} if isinstance(value, list) else None


def _address(value: Any) -> str | None:
    # Native SDKs may send addresses as numbers; Sentry stores hex strings.
    if isinstance(value, str):
        return value
    number = as_int(value)
    return None if number is None else f"0x{number:x}"
