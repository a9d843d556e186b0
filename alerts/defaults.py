"""Every new project starts with one rule: a new issue or a regression mails the project's team."""

from __future__ import annotations

from . import rules
from .models import AlertRule

DEFAULT_RULE_NAME = "New issues and regressions"


def default_rule_fields() -> dict:
    return {
        "name": DEFAULT_RULE_NAME,
        "conditions": [{"id": rules.FIRST_SEEN}, {"id": rules.REGRESSION}],
        "filters": [],
        "actions": [{"id": rules.EMAIL_ACTION, "targetType": "Team"}],
        "frequency": 30,
        "is_default": True,
    }


def create_default_rule(project_id: int) -> AlertRule:
    return AlertRule.objects.create(project_id=project_id, **default_rule_fields())


def on_project_saved(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        create_default_rule(instance.pk)
