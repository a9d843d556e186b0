"""Per-project processing settings (scrubbing, grouping rules) as the worker needs them, cached briefly."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from issues.grouping import (
    DEFAULT_CONFIG_ID,
    Enhancements,
    FingerprintRules,
    RuleSyntaxError,
    parse_enhancements,
    parse_fingerprint_rules,
)

from .protocol.scrub import ScrubConfig

log = logging.getLogger(__name__)
_TTL = 10.0


@dataclass(frozen=True)
class ProjectConfig:
    project_id: int
    organization_id: int
    scrub: ScrubConfig
    grouping_config: str
    # The previous config during an upgrade's transition window, else None.
    secondary_grouping_config: str | None
    fingerprint_rules: FingerprintRules | None
    enhancements: Enhancements | None
    # Whether the project has stored an event yet; while not, the writer sets its first_event.
    has_first_event: bool = True


_cache: dict[int, tuple[float, ProjectConfig | None]] = {}


def get_project_config(project_id: int) -> ProjectConfig | None:
    now = time.monotonic()
    hit = _cache.get(project_id)
    if hit and hit[0] > now:
        return hit[1]
    config = _load(project_id)
    _cache[project_id] = (now + _TTL, config)
    return config


def clear_project_config_cache() -> None:
    _cache.clear()


def forget_project_config(project_id: int) -> None:
    """The project's settings changed under this worker (its rules were suspended): load them again."""
    _cache.pop(project_id, None)


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def _load(project_id: int) -> ProjectConfig | None:
    from projects.models import Project

    project = Project.objects.filter(id=project_id).first()
    if project is None:
        return None
    # Rules that used up an event's CPU budget stay off until they are saved again.
    rules_on = project.rules_suspended_at is None
    return ProjectConfig(
        project_id=project_id,
        organization_id=project.organization_id,
        scrub=ScrubConfig(
            extra_fields=_lines(project.scrub_extra_fields),
            safe_fields=_lines(project.scrub_safe_fields),
            scrub_ip_addresses=project.scrub_ip_addresses,
        ),
        grouping_config=project.grouping_config or DEFAULT_CONFIG_ID,
        secondary_grouping_config=_secondary(project),
        fingerprint_rules=_parse(parse_fingerprint_rules, project.fingerprint_rules, project_id)
        if rules_on
        else None,
        enhancements=_parse(parse_enhancements, project.stacktrace_rules, project_id) if rules_on else None,
        has_first_event=project.first_event is not None,
    )


def _secondary(project) -> str | None:
    from django.utils import timezone

    expiry = project.secondary_grouping_expiry
    config = project.secondary_grouping_config
    if config and config != project.grouping_config and expiry and expiry > timezone.now():
        return config
    return None


def _parse(parser, text: str, project_id: int):
    if not text.strip():
        return None
    try:
        return parser(text)
    except RuleSyntaxError:
        # The settings page validates rules on save; a rule that slipped through must not stop ingest.
        log.warning("ignoring invalid grouping rules of project %s", project_id)
        return None
