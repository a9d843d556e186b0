"""Versioned grouping configurations.

A configuration fixes every choice that influences a hash.  Once a
configuration id has been shipped its output must never change, because the
hashes it produced are stored beside existing issues.  Improvements therefore
go into a *new* configuration registered here, and projects move to it
explicitly; the old one stays available for events already stored.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_CONFIG_ID = "newstyle:2023-01-11"


@dataclass(frozen=True, slots=True)
class GroupingConfig:
    id: str
    # Platforms whose source lines are trusted enough to group by them.
    contextline_platforms: frozenset[str]
    # Exception sub-component order: stack trace, type, value (the 2023 order).
    legacy_exception_order: bool
    # Name of the built-in stack-trace rule set applied before project rules.
    enhancements_base: str
    # Names of built-in fingerprint rule sets applied after project rules.
    fingerprinting_bases: tuple[str, ...]
    # Derive a module name from a browser script URL when the SDK sent none.
    js_module_from_url: bool
    # Python SDK 3.x exception groups are hashed without the group filter.
    python_sdk3_skips_group_filter: bool
    description: str = ""


_REGISTRY: dict[str, GroupingConfig] = {}


def register(config: GroupingConfig) -> GroupingConfig:
    if config.id in _REGISTRY:
        raise ValueError(f"grouping config {config.id!r} is already registered")
    _REGISTRY[config.id] = config
    return config


def get_config(config_id: str) -> GroupingConfig:
    """The registered config, or the default one for an unknown id."""
    return _REGISTRY.get(config_id) or _REGISTRY[DEFAULT_CONFIG_ID]


def get_config_ids() -> list[str]:
    return list(_REGISTRY)


register(
    GroupingConfig(
        id=DEFAULT_CONFIG_ID,
        contextline_platforms=frozenset(("javascript", "node", "python", "php", "ruby")),
        legacy_exception_order=True,
        enhancements_base="all-platforms:2023-01-11",
        fingerprinting_bases=("javascript@2024-02-02",),
        js_module_from_url=True,
        python_sdk3_skips_group_filter=True,
        description="Sentry's default grouping (newstyle:2023-01-11), reproduced hash for hash.",
    )
)
