"""Stack traces -> ``stacktrace`` components for the app and system variants.

The *app* variant only lets in-app frames count; the *system* variant lets
every frame count.  Repeated frames (recursion) count once, stack-trace rules
can switch frames off (or back on), and a stack trace without any counting
frame does not contribute at all, so the exception value or message is used
instead.
"""

from __future__ import annotations

from .component import GroupingComponent, make
from .config import GroupingConfig
from .enhancements import Enhancements
from .event import Exc, Frame, behavior_family
from .frames import frame_component, has_url_origin

APP, SYSTEM = "app", "system"
NOT_IN_APP = "ignored because it is not in-app"


def clone_frame(component: GroupingComponent) -> GroupingComponent:
    """A copy of a frame component that shares its (never modified) children."""
    return GroupingComponent(
        component.id, component.contributes, component.hint, component.values, component.in_app
    )


def _app_frame_hint(frame: Frame, comp: GroupingComponent) -> None:
    if not frame.in_app:
        reason = NOT_IN_APP
        if frame.in_app_rule:
            reason += f" (marked out of app by {frame.in_app_rule})"
        comp.update(contributes=False, hint=reason)
    elif frame.in_app_rule and comp.hint is None:
        comp.update(hint=f"marked in-app by {frame.in_app_rule}")


def _base_frames(frames: list[Frame], platform: str, config: GroupingConfig) -> list[GroupingComponent]:
    comps: list[GroupingComponent] = []
    prev: tuple[object, ...] | None = None
    for frame in frames:
        comp = frame_component(frame, platform, config)
        key = frame.recursion_key()
        if key == prev:
            comp.update(contributes=False, hint="ignored due to recursion")
        prev = key
        comps.append(comp)
    if len(frames) == 1 and comps[0].contributes:
        only = frames[0]
        if (
            behavior_family(only.platform or platform) == "javascript"
            and not only.function
            and has_url_origin(only.abs_path, files_count_as_urls=True)
        ):
            comps[0].update(
                contributes=False, hint="ignored because it is a single low-quality JavaScript frame"
            )
    return comps


def _variant(
    variant: str,
    comps: list[GroupingComponent],
    frames: list[Frame],
    platform: str,
    enhancements: Enhancements,
    exc: Exc | None,
) -> GroupingComponent:
    if variant == APP:
        for frame, comp in zip(frames, comps, strict=True):
            if not frame.in_app:
                comp.update(contributes=False)
    contributes, hint = enhancements.assemble(comps, frames, platform, exc)
    if variant == APP:
        for frame, comp in zip(frames, comps, strict=True):
            _app_frame_hint(frame, comp)
    return make("stacktrace", list(comps), hint=hint, contributes=contributes)


def stacktrace_variants(
    frames: list[Frame],
    platform: str,
    config: GroupingConfig,
    enhancements: Enhancements,
    exc: Exc | None = None,
) -> dict[str, GroupingComponent]:
    """``{"app": ..., "system": ...}`` stack trace components for the frames."""
    base = _base_frames(frames, platform, config)
    app = _variant(APP, [clone_frame(c) for c in base], frames, platform, enhancements, exc)
    system = _variant(SYSTEM, base, frames, platform, enhancements, exc)
    _apply_frame_counts(app, system, frames)
    return {APP: app, SYSTEM: system}


def _apply_frame_counts(app: GroupingComponent, system: GroupingComponent, frames: list[Frame]) -> None:
    in_app = contributing = in_app_contributing = 0
    for frame, comp in zip(frames, system.values, strict=True):
        assert isinstance(comp, GroupingComponent)
        if frame.in_app:
            in_app += 1
        if comp.contributes:
            contributing += 1
            if frame.in_app:
                in_app_contributing += 1
    if contributing == 0:
        system.update(contributes=False, hint="ignored because it contains no contributing frames")
    if in_app == 0:
        app.update(contributes=False, hint="ignored because it contains no in-app frames")
    elif in_app_contributing == 0:
        app.update(contributes=False, hint="ignored because it contains no contributing frames")
