"""The rule page's form: plain fields for the common triggers, filters and actions, turned into the
same Sentry-shaped rule the API takes (and validated by the same function)."""

from __future__ import annotations

from typing import Any

from django import forms

from . import rules
from .models import AlertRule

INTERVAL_CHOICES = [(k, k) for k in rules.INTERVALS]
USER_INTERVAL_CHOICES = [(k, k) for k in rules.USER_INTERVALS]
LEVEL_CHOICES = [("", "any level")] + [(str(v), f"{k} or worse") for k, v in rules.LEVELS.items()]
CATEGORY_CHOICES = [("", "any category")] + [(k, v) for k, v in rules.CATEGORIES.items()]
TAG_MATCH_CHOICES = [
    ("eq", "equals"),
    ("co", "contains"),
    ("ne", "does not equal"),
    ("nc", "does not contain"),
]


class RuleForm(forms.Form):
    name = forms.CharField(max_length=256)
    enabled = forms.BooleanField(required=False, initial=True)
    frequency = forms.IntegerField(
        min_value=1, max_value=43200, initial=30, label="Action interval (minutes)"
    )
    on_new = forms.BooleanField(required=False, label="A new issue is created")
    on_regression = forms.BooleanField(required=False, label="A resolved issue comes back")
    frequency_value = forms.IntegerField(required=False, min_value=0, label="Seen more than N times")
    frequency_interval = forms.ChoiceField(choices=INTERVAL_CHOICES, initial="1h", required=False)
    users_value = forms.IntegerField(required=False, min_value=0, label="More than N users")
    users_interval = forms.ChoiceField(choices=USER_INTERVAL_CHOICES, initial="1h", required=False)
    spike_value = forms.FloatField(required=False, min_value=1.01, label="Spike: K times its usual rate")
    spike_interval = forms.ChoiceField(choices=INTERVAL_CHOICES, initial="1h", required=False)
    spike_floor = forms.IntegerField(required=False, min_value=0, initial=10, label="with at least")
    project_spike_value = forms.FloatField(
        required=False, min_value=1.01, label="Project spike: K times the project's usual rate"
    )
    project_spike_interval = forms.ChoiceField(choices=INTERVAL_CHOICES, initial="1h", required=False)
    project_spike_floor = forms.IntegerField(required=False, min_value=0, initial=100, label="with at least")
    environments = forms.CharField(required=False, label="Environments (comma-separated)")
    level = forms.ChoiceField(choices=LEVEL_CHOICES, required=False)
    tag_key = forms.CharField(required=False, max_length=200)
    tag_match = forms.ChoiceField(choices=TAG_MATCH_CHOICES, required=False)
    tag_value = forms.CharField(required=False, max_length=200)
    release = forms.CharField(required=False, max_length=200)
    latest_release = forms.BooleanField(
        required=False, label="The issue's first release is the latest release"
    )
    category = forms.ChoiceField(choices=CATEGORY_CHOICES, required=False, label="Issue category")
    email_team = forms.BooleanField(required=False, label="Email the project's team")
    email_members = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    webhook_url = forms.URLField(required=False, max_length=2000, assume_scheme="https")
    webhook_format = forms.ChoiceField(choices=[(f, f) for f in rules.WEBHOOK_FORMATS], required=False)
    apprise_url = forms.CharField(required=False, max_length=2000, label="apprise URL")

    def __init__(self, *args, members: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email_members"].choices = members

    def rule_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        conditions: list[dict[str, Any]] = []
        if d.get("on_new"):
            conditions.append({"id": rules.FIRST_SEEN})
        if d.get("on_regression"):
            conditions.append({"id": rules.REGRESSION})
        if d.get("frequency_value") is not None:
            conditions.append(
                {"id": rules.FREQUENCY, "value": d["frequency_value"], "interval": d["frequency_interval"]}
            )
        if d.get("users_value") is not None:
            conditions.append({"id": rules.USERS, "value": d["users_value"], "interval": d["users_interval"]})
        if d.get("spike_value") is not None:
            conditions.append({"id": rules.SPIKE, "value": d["spike_value"], "interval": d["spike_interval"],
                               "floor": d.get("spike_floor") or 0})  # fmt: skip
        if d.get("project_spike_value") is not None:
            conditions.append({"id": rules.PROJECT_SPIKE, "value": d["project_spike_value"],
                               "interval": d["project_spike_interval"],
                               "floor": d.get("project_spike_floor") or 0})  # fmt: skip
        return {
            "name": d["name"],
            "frequency": d["frequency"],
            "status": "active" if d.get("enabled") else "disabled",
            "conditions": conditions,
            "filters": self._filters(),
            "actions": self._actions(),
        }

    def _filters(self) -> list[dict[str, Any]]:
        d = self.cleaned_data
        found: list[dict[str, Any]] = []
        envs = [e.strip() for e in (d.get("environments") or "").split(",") if e.strip()]
        if envs:
            found.append({"id": rules.ENVIRONMENT_FILTER, "environments": envs})
        if d.get("level"):
            found.append({"id": rules.LEVEL_FILTER, "match": "gte", "level": d["level"]})
        if d.get("tag_key"):
            found.append({"id": rules.TAG_FILTER, "key": d["tag_key"], "match": d.get("tag_match") or "eq",
                          "value": d.get("tag_value") or ""})  # fmt: skip
        if d.get("release"):
            found.append({"id": rules.RELEASE_FILTER, "release": d["release"]})
        if d.get("latest_release"):
            found.append({"id": rules.LATEST_RELEASE_FILTER})
        if d.get("category"):
            found.append({"id": rules.CATEGORY_FILTER, "value": d["category"]})
        return found

    def _actions(self) -> list[dict[str, Any]]:
        d = self.cleaned_data
        found: list[dict[str, Any]] = []
        if d.get("email_team"):
            found.append({"id": rules.EMAIL_ACTION, "targetType": "Team"})
        for user_id in d.get("email_members") or []:
            found.append({"id": rules.EMAIL_ACTION, "targetType": "Member", "targetIdentifier": str(user_id)})
        if d.get("webhook_url"):
            found.append(
                {
                    "id": rules.WEBHOOK_ACTION,
                    "url": d["webhook_url"],
                    "format": d.get("webhook_format") or "sentry",
                }
            )
        if d.get("apprise_url"):
            found.append({"id": rules.APPRISE_ACTION, "url": d["apprise_url"].strip()})
        return found


_PREFIXES = {
    rules.FREQUENCY: "frequency",
    rules.USERS: "users",
    rules.SPIKE: "spike",
    rules.PROJECT_SPIKE: "project_spike",
}


def initial_from(rule: AlertRule) -> dict[str, Any]:
    initial: dict[str, Any] = {"name": rule.name, "enabled": rule.enabled, "frequency": rule.frequency}
    for c in rule.conditions:
        kind = c.get("id")
        if kind == rules.FIRST_SEEN:
            initial["on_new"] = True
        elif kind == rules.REGRESSION:
            initial["on_regression"] = True
        elif kind in _PREFIXES:
            prefix = _PREFIXES[kind]
            initial[f"{prefix}_value"], initial[f"{prefix}_interval"] = (
                c.get("value"),
                c.get("interval", "1h"),
            )
            if kind in (rules.SPIKE, rules.PROJECT_SPIKE):
                initial[f"{prefix}_floor"] = c.get("floor", 10)
    for f in rule.filters:
        kind = f.get("id")
        if kind == rules.ENVIRONMENT_FILTER:
            initial["environments"] = ", ".join(f.get("environments", []))
        elif kind == rules.LEVEL_FILTER:
            initial["level"] = str(f.get("level", ""))
        elif kind == rules.TAG_FILTER:
            initial.update(tag_key=f.get("key"), tag_match=f.get("match"), tag_value=f.get("value"))
        elif kind == rules.RELEASE_FILTER:
            initial["release"] = f.get("release")
        elif kind == rules.LATEST_RELEASE_FILTER:
            initial["latest_release"] = True
        elif kind == rules.CATEGORY_FILTER:
            initial["category"] = str(f.get("value", ""))
    members = []
    for a in rule.actions:
        if a.get("id") == rules.EMAIL_ACTION:
            if a.get("targetType") == "Member":
                members.append(str(a.get("targetIdentifier")))
            else:
                initial["email_team"] = True
        elif a.get("id") == rules.WEBHOOK_ACTION:
            initial.update(webhook_url=a.get("url"), webhook_format=a.get("format", "sentry"))
        elif a.get("id") == rules.APPRISE_ACTION:
            initial["apprise_url"] = a.get("url")
    initial["email_members"] = members
    return initial
