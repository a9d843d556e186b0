"""The CPU budget for a project's own grouping rules on shared workers, and what happens when an
event uses it up: the event is grouped without the rules (issues/grouping/budget.py), the project's
rules are suspended, and its settings page says so until they are saved again."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import timezone

from projects.models import Project

from .grouping import RuleBudget

log = logging.getLogger(__name__)


def rules_budget() -> RuleBudget:
    conf = settings.GROUPING_RULES_BUDGET
    return RuleBudget(conf["CPU_MS"] / 1000, conf["CPU_MS_PER_FRAME"] / 1000)


def suspend_rules(project_id: int, event_id: str) -> bool:
    """Records that the project's rules ran out of budget on this event. Several workers may report
    at once; the first report is kept (the UPDATE only matches a project not yet suspended)."""
    suspended = Project.objects.filter(id=project_id, rules_suspended_at__isnull=True).update(
        rules_suspended_at=timezone.now(), rules_suspended_event_id=event_id[:32]
    )
    if suspended:
        log.warning(
            "grouping rules of project %s used up their CPU budget on event %s: suspended until saved again",
            project_id,
            event_id,
        )
    return bool(suspended)


def resume_rules(project: Project) -> None:
    """The rules were saved again: try them again (the caller saves the project)."""
    project.rules_suspended_at = None
    project.rules_suspended_event_id = ""
