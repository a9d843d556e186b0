"""Writing rules (API and pages share it) and their Sentry-shaped API objects."""

from __future__ import annotations

import secrets
from typing import Any

from issues.serializers import iso
from projects import access
from projects.models import Project

from . import rules
from .models import AlertRule

__all__ = ["can_manage", "delete_rule", "save_rule", "serialize_rule"]


def can_manage(user, project: Project) -> bool:
    """Owners and managers of the project's organization write its rules; members read them."""
    return access.can_manage(user, project.organization)


def save_rule(project: Project, data: dict[str, Any], user, rule: AlertRule | None = None) -> AlertRule:
    """Validates `data` (Sentry's rule fields) and creates or updates the rule; RuleError if invalid.
    A webhook action without a secret gets a random one (shown with the rule, for receivers)."""
    clean = rules.validate_rule(data)
    previous = {a.get("url"): a.get("secret") for a in (rule.actions if rule else [])}
    for action in clean["actions"]:
        if action["id"] == rules.WEBHOOK_ACTION and not action.get("secret"):
            action["secret"] = previous.get(action["url"]) or secrets.token_hex(16)
    rule = rule or AlertRule(project=project, owner=user if getattr(user, "pk", None) else None)
    rule.name, rule.frequency, rule.environment = clean["name"], clean["frequency"], clean["environment"]
    rule.conditions, rule.filters, rule.actions = clean["conditions"], clean["filters"], clean["actions"]
    rule.filter_match = clean["filterMatch"]
    if "status" in data:
        rule.enabled = data["status"] != "disabled"
    rule.save()
    return rule


def delete_rule(rule: AlertRule) -> None:
    rule.delete()


def _masked_apprise(action: dict[str, Any]) -> dict[str, Any]:
    return {**action, "url": str(action.get("url", "")).split("://", 1)[0] + "://********"}


def serialize_rule(rule: AlertRule, show_secrets: bool = True) -> dict[str, Any]:
    """Webhook secrets only for those who may change the rule (members see them masked)."""
    owner = rule.owner
    actions = rule.actions
    if not show_secrets:  # apprise URLs hold the service's tokens
        actions = [{**a, "secret": "********"} if a.get("secret") else a for a in actions]
        actions = [_masked_apprise(a) if a.get("id") == rules.APPRISE_ACTION else a for a in actions]
    return {
        "id": str(rule.pk),
        "name": rule.name,
        "conditions": rule.conditions,
        "filters": rule.filters,
        "actions": actions,
        "actionMatch": "any",
        "filterMatch": rule.filter_match,
        "frequency": rule.frequency,
        "environment": rule.environment or None,
        "owner": f"user:{owner.pk}" if owner else None,
        "createdBy": {"id": owner.pk, "name": owner.get_username(), "email": owner.email} if owner else None,
        "dateCreated": iso(rule.created),
        "projects": [rule.project.slug],
        "status": "active" if rule.enabled else "disabled",
        "snooze": False,
    }
