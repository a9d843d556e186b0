"""Resolving ``{{ variables }}`` in fingerprints and rule titles."""

from __future__ import annotations

from .event import EventView
from .fingerprinting import _VAR, DEFAULT_VAR, variable_name


def resolve_variable(name: str, view: EventView) -> str | None:
    """Value of a fingerprint variable, or ``None`` for an unknown variable."""
    last = view.exceptions[-1] if view.exceptions else None
    if name == "transaction":
        return view.transaction or "<no-transaction>"
    if name == "message":
        return view.formatted or view.message or (last.value if last else None) or "<no-message>"
    if name in ("type", "error.type"):
        return (last.type if last else None) or "<no-type>"
    if name in ("value", "error.value"):
        return (last.value if last else None) or "<no-value>"
    if name in ("level", "logger"):
        return (view.level if name == "level" else view.logger) or f"<no-{name}>"
    if name.startswith("tags."):
        tag = name[5:]
        for key, value in view.tags:
            if key == tag:
                return value
        return f"<no-value-for-tag-{tag}>"
    return _frame_variable(name, view)


def _frame_variable(name: str, view: EventView) -> str | None:
    frame = view.crash_frame()
    if name in ("function", "stack.function"):
        return (frame.function if frame else None) or "<no-function>"
    if name in ("path", "stack.abs_path"):
        return (frame.abs_path or frame.filename if frame else None) or "<no-abs-path>"
    if name == "stack.filename":
        return (frame.filename or frame.abs_path if frame else None) or "<no-filename>"
    if name in ("module", "stack.module"):
        return (frame.module if frame else None) or "<no-module>"
    if name in ("package", "stack.package"):
        package = frame.package if frame else None
        if package:
            package = package.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
        return package or "<no-package>"
    return None


def resolve_fingerprint(fingerprint: list[str], view: EventView) -> list[str]:
    out = []
    for entry in fingerprint:
        name = variable_name(entry)
        if name == "default":
            out.append(DEFAULT_VAR)
        elif name is None:
            out.append(entry)
        else:
            resolved = resolve_variable(name, view)
            out.append(entry if resolved is None else resolved)
    return out


def expand_title(template: str, view: EventView) -> str:
    def replace(match: object) -> str:
        assert hasattr(match, "group")
        resolved = resolve_variable(match.group(1), view)
        return match.group(0) if resolved is None else resolved

    return _VAR.sub(replace, template)
