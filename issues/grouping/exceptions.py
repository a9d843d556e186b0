"""Exception and thread strategies.

Every exception of a chain contributes (oldest first): its stack trace, its
type, and - only when no stack trace contributes - its normalised value.
Exception groups are reduced first: when all leaf exceptions of a group are
alike the group is hashed like a single one of them, otherwise one of each
distinct kind plus the group itself is used.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from .component import GroupingComponent, make
from .config import GroupingConfig
from .enhancements import Enhancements
from .event import EventView, Exc, Thread
from .parameterization import normalize_message
from .stacktrace import APP, stacktrace_variants

Variants = dict[str, GroupingComponent]


class _Context:
    def __init__(self, view: EventView, config: GroupingConfig, enhancements: Enhancements) -> None:
        self.view = view
        self.config = config
        self.enhancements = enhancements


def _value_component(exc: Exc) -> GroupingComponent:
    raw = exc.value
    if raw is None:
        return make("value")
    normalized = normalize_message(raw)
    hint = "stripped event-specific values" if normalized != raw else None
    return make("value", [normalized] if normalized else [], hint=hint)


def single_exception(exc: Exc, ctx: _Context) -> Variants:
    type_comp = make("type", [exc.type] if exc.type else [])
    if exc.synthetic:
        type_comp.update(contributes=False, hint="ignored because the exception is synthetic")
    ns_error = None
    if exc.ns_error is not None:
        domain, code = exc.ns_error
        ns_error = make("ns_error", [make("domain", [domain]), make("code", [code])])
    if exc.frames is not None:
        stacks = stacktrace_variants(exc.frames, ctx.view.platform, ctx.config, ctx.enhancements, exc)
    else:
        stacks = {APP: make("stacktrace")}
    out: Variants = {}
    base_value = _value_component(exc)
    for name, stack in stacks.items():
        value = make("value", list(base_value.values), hint=base_value.hint)
        if stack.contributes and value.contributes:
            value.update(contributes=False, hint="ignored because stack trace takes precedence")
        if ns_error is not None and ns_error.contributes and value.contributes:
            value.update(contributes=False, hint="ignored because the NSError info takes precedence")
        extra: list[GroupingComponent | str] = [ns_error] if ns_error is not None else []
        if ctx.config.legacy_exception_order:
            children: list[GroupingComponent | str] = [stack, type_comp, *extra, value]
        else:
            children = [type_comp, value, *extra, stack]
        out[name] = make("exception", children)
    return out


def chained_exception(ctx: _Context) -> Variants:
    exceptions = ctx.view.exceptions
    if not exceptions:
        return {}
    components = {id(e): single_exception(e, ctx) for e in exceptions}
    try:
        selected = filter_exception_groups(exceptions, components, ctx)
    except (_BrokenTree, RecursionError):
        selected = exceptions
    if len(selected) == 1:
        return components[id(selected[0])]
    by_variant: dict[str, list[GroupingComponent | str]] = {}
    for exc in selected:
        for name, comp in components[id(exc)].items():
            by_variant.setdefault(name, []).append(comp)
    return {name: make("chained_exception", comps) for name, comps in by_variant.items()}


class _BrokenTree(Exception):
    pass


class _Tree:
    def __init__(self, exceptions: list[Exc]) -> None:
        self.nodes: dict[int, Exc] = {}
        self.children: dict[int, list[Exc]] = {}
        for exc in reversed(exceptions):
            eid = exc.exception_id
            if eid is None or eid == exc.parent_id or eid in self.nodes:
                raise _BrokenTree
            self.nodes[eid] = exc
            if exc.parent_id is not None:
                self.children.setdefault(exc.parent_id, []).append(exc)

    def kids(self, exc: Exc) -> list[Exc]:
        return self.children.get(exc.exception_id, []) if exc.exception_id is not None else []

    def top_level(self, root: Exc) -> Iterator[Exc]:
        """Leaf-most non-group exceptions under ``root`` (depth first)."""
        seen: set[int] = set()
        stack: list[Exc] = [root]
        while stack:
            exc = stack.pop()
            if id(exc) in seen:
                raise _BrokenTree  # cycle
            seen.add(id(exc))
            if exc.is_group:
                stack.extend(reversed(self.kids(exc)))
            else:
                yield exc

    def first_path(self, exc: Exc) -> list[Exc]:
        path = [exc]
        while kids := self.kids(path[-1]):
            if kids[0] in path:
                raise _BrokenTree
            path.append(kids[0])
        return path


def filter_exception_groups(
    exceptions: list[Exc], components: dict[int, Variants], ctx: _Context
) -> list[Exc]:
    if len(exceptions) <= 1:
        return exceptions
    view = ctx.view
    if ctx.config.python_sdk3_skips_group_filter and view.platform == "python":
        if view.sdk_version.startswith("3"):
            return exceptions
    tree = _Tree(exceptions)
    root = tree.nodes.get(0)
    if root is None:
        return exceptions
    top = sorted(tree.top_level(root), key=lambda e: str(e.type), reverse=True)
    if not top:
        return exceptions

    def signature(exc: Exc) -> tuple[object, ...]:
        return tuple((name, comp.signature()) for name, comp in components[id(exc)].items())

    distinct = [next(group) for _, group in itertools.groupby(top, key=signature)]
    if len(distinct) == 1:
        return tree.first_path(distinct[0])
    return distinct + [root]


def _thread_components(threads: list[Thread], ctx: _Context) -> Variants | None:
    if len(threads) != 1:
        return None
    frames = threads[0].frames
    if not frames:
        return {APP: make("threads", contributes=False, hint="ignored because the thread has no stack trace")}
    stacks = stacktrace_variants(frames, ctx.view.platform, ctx.config, ctx.enhancements)
    return {name: make("threads", [stack]) for name, stack in stacks.items()}


def threads_strategy(ctx: _Context) -> Variants:
    threads = ctx.view.threads
    if not threads:
        return {}
    crashed = [t for t in threads if t.crashed]
    current = [t for t in threads if t.current]
    for candidates in (crashed, current, threads):
        found = _thread_components(candidates, ctx)
        if found is not None:
            return found
    hint = (
        "ignored because it has neither a single thread nor exactly one crashed or current thread "
        f"({len(crashed)} crashed, {len(current)} current, {len(threads)} in total)"
    )
    return {APP: make("threads", contributes=False, hint=hint)}


def stacktrace_strategy(ctx: _Context) -> Variants:
    frames = ctx.view.stacktrace
    if not frames:
        return {}
    return stacktrace_variants(frames, ctx.view.platform, ctx.config, ctx.enhancements)


Context = _Context
