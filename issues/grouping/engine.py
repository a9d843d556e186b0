"""The grouping pipeline: event -> variants -> hashes.

1. Stack traces are prepared (function names, in-app via stack-trace rules).
2. Server-side fingerprint rules may replace the event's fingerprint.
3. Each strategy (exception > threads > stack trace > template > security
   report > message) builds components per variant; the first one that
   contributes wins and the others are marked as overridden.
4. A custom fingerprint replaces the result; one containing ``{{ default }}``
   salts it instead.  If nothing contributes, a fallback hash is used.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from .budget import RuleBudget, within_budget
from .builtin_rules import ENHANCEMENT_BASES, FINGERPRINT_BASES
from .component import EMPTY_HASH, GroupingComponent, hash_values, make
from .config import GroupingConfig, get_config
from .enhancements import Enhancements
from .event import JS_FAMILY, EventView, frame_count
from .exceptions import Context, chained_exception, stacktrace_strategy, threads_strategy
from .fingerprint_rules import FingerprintRules
from .fingerprint_vars import expand_title, resolve_fingerprint
from .fingerprinting import FingerprintRule, is_default_var
from .memo import (
    GroupingMemo,
    MemoResult,
    rules_read_values,
    shape_of,
    tags_matter,
    values_may_be_shared,
    with_sentinel_values,
)
from .message import (
    csp_strategy,
    expect_ct_strategy,
    expect_staple_strategy,
    hpkp_strategy,
    message_strategy,
    template_strategy,
)
from .normalize import prepare_stacktraces
from .parameterization import clear_message_cache
from .result import GroupingResult, GroupingVariant, collect_hashes

Variants = dict[str, GroupingComponent]
_CHECKSUM = re.compile(r"^[0-9a-f]{32}$")
# (name, what the precedence hint calls it, builds components, has app/system variants)
_STRATEGIES: tuple[tuple[str, str, Callable[[Context], Variants], bool], ...] = (
    ("exception", "the exception", chained_exception, True),
    ("threads", "the thread's stack trace", threads_strategy, True),
    ("stacktrace", "the stack trace", stacktrace_strategy, True),
    ("template", "the template", lambda c: template_strategy(c.view), False),
    ("csp", "the CSP report", lambda c: csp_strategy(c.view), False),
    ("hpkp", "the HPKP report", lambda c: hpkp_strategy(c.view), False),
    ("expectstaple", "the Expect-Staple report", lambda c: expect_staple_strategy(c.view), False),
    ("expectct", "the Expect-CT report", lambda c: expect_ct_strategy(c.view), False),
    ("message", "the message", lambda c: message_strategy(c.view), False),
)


@lru_cache(maxsize=8)
def base_enhancements(name: str) -> Enhancements:
    return Enhancements.from_text(ENHANCEMENT_BASES.get(name, ""), builtin=True)


def _combined_enhancements(base: str, custom: Enhancements | None) -> Enhancements:
    if custom is None or not custom.rules:
        return base_enhancements(base)
    if custom.text:
        # keyed by the rule text so re-parsed project settings reuse compiled rules
        return _combined_from_text(base, custom.text)
    return _combined_from_object(base, custom)


@lru_cache(maxsize=256)
def _combined_from_text(base: str, text: str) -> Enhancements:
    return Enhancements.from_text(text).combined_with(base_enhancements(base))


@lru_cache(maxsize=64)
def _combined_from_object(base: str, custom: Enhancements) -> Enhancements:
    return custom.combined_with(base_enhancements(base))


@lru_cache(maxsize=8)
def _builtin_fingerprints(names: tuple[str, ...]) -> FingerprintRules:
    rules = []
    for name in names:
        rules.extend(FingerprintRules.from_text(FINGERPRINT_BASES.get(name, ""), builtin=True).rules)
    return FingerprintRules(rules)


def clear_runtime_caches() -> None:
    """Forget remembered per-frame rule results and message normalisations.

    The built-in rule sets stay parsed; they are built once per process.
    """
    for name in ENHANCEMENT_BASES:
        for ruleset in base_enhancements(name).rulesets():
            ruleset.memo.clear()
    _combined_from_text.cache_clear()
    _combined_from_object.cache_clear()
    clear_message_cache()


def _has_contributing_stacktrace(component: GroupingComponent) -> bool:
    return component.find("stacktrace", only_contributing=True) is not None


def _post_process(variants: Variants) -> Variants:
    """De-duplicate the system variant against the app one, then prefer stack traces."""
    app, system = variants.get("app"), variants.get("system")
    if app is not None and system is not None and app.contributes and system.contributes:
        if "".join(app.iter_values()) == "".join(system.iter_values()):
            system.update(contributes=False, hint="ignored because its hash matches the app variant")
    if len(variants) > 1:
        with_stack = [name for name, comp in variants.items() if _has_contributing_stacktrace(comp)]
        if with_stack:
            suffix = f"the {with_stack[0]} variant does" if len(with_stack) == 1 else "others do"
            for name, comp in variants.items():
                if name not in with_stack:
                    comp.update(
                        contributes=False,
                        hint=f"ignored because this variant has no contributing stack trace, but {suffix}",
                    )
    return variants


def _strategy_variants(ctx: Context) -> dict[str, GroupingComponent]:
    winner: str | None = None
    precedence: str | None = None
    collected: dict[str, list[GroupingComponent | str]] = {}
    for name, label, build, split in _STRATEGIES:
        components = build(ctx)
        if not components:
            continue
        if split:
            components = _post_process(components)
        for variant, comp in components.items():
            collected.setdefault(variant, []).append(comp)
            if not comp.contributes:
                continue
            if winner is None:
                winner, precedence = name, f"ignored because {label} takes precedence"
            elif name != winner:
                comp.update(contributes=False, hint=precedence)
    roots = {}
    for variant, comps in collected.items():
        root = make(variant, comps)
        if not root.contributes:
            # explain with the reason given by the part that would have counted
            reasons = [c.hint for c in comps if isinstance(c, GroupingComponent) and c.hint]
            root.update(hint=reasons[0] if reasons else precedence)
        roots[variant] = root
    return roots


def _component_variant(name: str, root: GroupingComponent) -> GroupingVariant:
    return GroupingVariant(name, root.get_hash(), root.contributes, root.hint, root)


def _fingerprint_variants(
    roots: dict[str, GroupingComponent],
    fingerprint: list[str],
    rule: FingerprintRule | None,
    client: list[str] | None,
    view: EventView,
) -> list[GroupingVariant]:
    variants = [_component_variant(name, root) for name, root in roots.items()]
    if len(fingerprint) == 1 and is_default_var(fingerprint[0]):
        return variants
    resolved = resolve_fingerprint(fingerprint, view)
    matched = rule.text if rule is not None else None
    if any(is_default_var(v) for v in fingerprint):
        for variant in variants:
            _salt(variant, resolved, matched)
        return variants
    for variant in variants:
        assert variant.component is not None
        variant.component.update(
            contributes=False, hint="ignored because a custom fingerprint takes precedence"
        )
        variant.contributes, variant.hash, variant.hint = False, None, variant.component.hint
    return [*variants, _custom_variant(resolved, rule, client)]


def _custom_variant(
    resolved: list[str], rule: FingerprintRule | None, client: list[str] | None
) -> GroupingVariant:
    if rule is None:
        name = "custom_fingerprint"
    else:
        name = "built_in_fingerprint" if rule.builtin else "custom_server_fingerprint"
    return GroupingVariant(
        name,
        hash_values(resolved),
        True,
        None,
        None,
        type=name,
        values=resolved,
        matched_rule=rule.text if rule is not None else None,
        client_values=client if rule is not None else None,
    )


def _salt(variant: GroupingVariant, resolved: list[str], matched: str | None) -> None:
    variant.type, variant.values, variant.matched_rule = "salted_component", resolved, matched
    root = variant.component
    if root is None or not root.contributes:
        variant.hash = None
        return
    values: list[str] = []
    for entry in resolved:
        if is_default_var(entry):
            values.extend(root.iter_values())
        else:
            values.append(entry)
    variant.hash = hash_values(values)


def _checksum_result(config: GroupingConfig, checksum: str) -> GroupingResult:
    if _CHECKSUM.match(checksum):
        variant = GroupingVariant("checksum", checksum, True, None, None, type="checksum", values=[checksum])
    else:
        variant = GroupingVariant(
            "hashed_checksum",
            hash_values([checksum]),
            True,
            None,
            None,
            type="hashed_checksum",
            values=[checksum],
        )
    return GroupingResult(config.id, [variant.hash or EMPTY_HASH], [variant], None)


def compute(
    event: Mapping[str, Any],
    config: GroupingConfig,
    fingerprint_rules: FingerprintRules | None,
    enhancements: Enhancements | None,
) -> GroupingResult:
    view = EventView(event)
    enh = _combined_enhancements(config.enhancements_base, enhancements)
    prepare_stacktraces(view, config, enh)
    return _group_prepared(view, config, enh, _match_rule(view, config, fingerprint_rules))


def _match_rule(
    view: EventView, config: GroupingConfig, fingerprint_rules: FingerprintRules | None
) -> FingerprintRule | None:
    rule = fingerprint_rules.match(view) if fingerprint_rules else None
    if rule is None:
        rule = _builtin_fingerprints(config.fingerprinting_bases).match(view)
    return rule


def _group_prepared(
    view: EventView, config: GroupingConfig, enh: Enhancements, rule: FingerprintRule | None
) -> GroupingResult:
    client = view.fingerprint
    fingerprint = client or ["{{ default }}"]
    title = None
    if rule is not None:
        fingerprint = list(rule.fingerprint)
        if "title" in rule.attributes:
            title = expand_title(rule.attributes["title"], view)
    if view.checksum:
        result = _checksum_result(config, view.checksum)
        result.title = title
        return result
    roots = _strategy_variants(Context(view, config, enh))
    variants = _fingerprint_variants(roots, fingerprint, rule, client, view)
    if not any(v.contributes and v.hash for v in variants):
        hint = "used because nothing else in the event could be grouped on"
        variants.append(GroupingVariant("fallback", EMPTY_HASH, True, hint, None, type="fallback"))
    hashes = collect_hashes(variants) or [EMPTY_HASH]
    return GroupingResult(config.id, hashes, variants, title)


def compute_memoized(
    event: Mapping[str, Any],
    config: GroupingConfig,
    fingerprint_rules: FingerprintRules | None,
    enhancements: Enhancements | None,
    memo: GroupingMemo,
) -> GroupingResult:
    """Like compute(), from the memo where the event's shape was grouped before (issues/grouping/
    memo.py says when that is safe). A remembered result has hashes and title, no variants."""
    rules_text = fingerprint_rules.text if fingerprint_rules else ""
    custom_enh_text = enhancements.text if enhancements is not None and enhancements.rules else ""
    if (fingerprint_rules and not rules_text) or (
        enhancements is not None and enhancements.rules and not custom_enh_text
    ):
        return compute(event, config, fingerprint_rules, enhancements)  # rules without text: no stable key
    view = EventView(event)
    values = tuple(e.value for e in view.exceptions)
    # Which exceptions have a value is part of the key: a value that is there may count where
    # a missing one cannot, and the probe below only replaces values that are there.
    present = tuple(bool(v) for v in values)
    key: tuple[Any, ...] = (
        config.id,
        rules_text,
        custom_enh_text,
        present,
        shape_of(view, tags_matter(view, rules_text)),
    )
    # Without rules that read values or messages, the matched fingerprint rule follows from the key.
    early = view.platform not in JS_FAMILY and not rules_read_values(rules_text)
    if early and (hit := memo.get(key, values)) is not None:
        return GroupingResult(hit.config_id, list(hit.hashes), [], hit.title)
    enh = _combined_enhancements(config.enhancements_base, enhancements)
    prepare_stacktraces(view, config, enh)
    rule = _match_rule(view, config, fingerprint_rules)
    if not early:
        key += (rule.text if rule is not None else None,)
        if (hit := memo.get(key, values)) is not None:
            return GroupingResult(hit.config_id, list(hit.hashes), [], hit.title)
    result = _group_prepared(view, config, enh, rule)
    shared = False
    enh_text = custom_enh_text + ENHANCEMENT_BASES.get(config.enhancements_base, "")
    if values_may_be_shared(view, event, enh_text):
        probe = compute(with_sentinel_values(event), config, fingerprint_rules, enhancements)
        shared = (probe.hashes, probe.title) == (result.hashes, result.title)
    memo.put(key, values, MemoResult(config.id, tuple(result.hashes), result.title), shared)
    return result


def compute_grouping(
    event: Mapping[str, Any],
    *,
    config_id: str | None = None,
    fingerprint_rules: FingerprintRules | None = None,
    enhancements: Enhancements | None = None,
    memo: GroupingMemo | None = None,
    budget: RuleBudget | None = None,
) -> GroupingResult:
    from .config import DEFAULT_CONFIG_ID

    config = get_config(config_id if isinstance(config_id, str) else DEFAULT_CONFIG_ID)
    if not isinstance(event, Mapping):
        event = {}
    if not isinstance(fingerprint_rules, FingerprintRules):
        fingerprint_rules = None
    if not isinstance(enhancements, Enhancements):
        enhancements = None
    try:
        if budget is None or not (fingerprint_rules or (enhancements is not None and enhancements.rules)):
            return _compute_any(event, config, fingerprint_rules, enhancements, memo)
        # Parsing and compiling the rules (once per process and rule text) is not part of the budget.
        _combined_enhancements(config.enhancements_base, enhancements)
        result = within_budget(
            lambda: _compute_any(event, config, fingerprint_rules, enhancements, memo),
            budget,
            frame_count(event),
        )
        if result is None:
            result = _compute_any(event, config, None, None, memo)
            result.rules_over_budget = True
        return result
    except Exception as exc:  # noqa: BLE001 - grouping must never take the ingest worker down
        return _failure_result(config, event, exc)


def _compute_any(
    event: Mapping[str, Any],
    config: GroupingConfig,
    fingerprint_rules: FingerprintRules | None,
    enhancements: Enhancements | None,
    memo: GroupingMemo | None,
) -> GroupingResult:
    if memo is not None:
        return compute_memoized(event, config, fingerprint_rules, enhancements, memo)
    return compute(event, config, fingerprint_rules, enhancements)


def _failure_result(config: GroupingConfig, event: Mapping[str, Any], exc: Exception) -> GroupingResult:
    parts = ["lighttrace:grouping-failed"]
    try:
        view_parts = [str(event.get("platform")), str(event.get("message"))[:200]]
        for item in (event.get("exception") or {}).get("values") or []:
            if isinstance(item, Mapping):
                view_parts.append(str(item.get("type"))[:200])
        parts.extend(view_parts)
    except Exception:  # noqa: BLE001
        pass
    hint = f"grouping failed ({type(exc).__name__}); a coarse fallback hash was used"
    variant = GroupingVariant("fallback", hash_values(parts), True, hint, None, type="fallback")
    return GroupingResult(config.id, [variant.hash or EMPTY_HASH], [variant], None)
