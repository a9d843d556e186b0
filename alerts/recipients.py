"""Who an alert goes to: one Notification row per recipient address or webhook, keyed uniquely, so
a user reached by two actions of a rule (the team and by name) gets one mail per alert."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model

from core.sql import insert_rows
from issues.buckets import hour_of
from issues.models import Issue
from projects.models import OrganizationMember, Project

from . import rules
from .models import AlertFire, AlertMute, AlertRule


def team_users(project: Project) -> list:
    """The members of the project's teams; a project without a team falls back to its organization's
    members."""
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    team_ids = [team.pk for team in project.teams.all()]
    if team_ids:
        users = users.filter(teams__in=team_ids)
    else:
        users = users.filter(memberships__organization_id=project.organization_id)
    return list(users.order_by("id").distinct())


def _member_users(project: Project, user_ids: set[int]) -> list:
    member_ids = OrganizationMember.objects.filter(
        organization_id=project.organization_id, user_id__in=user_ids
    ).values_list("user_id", flat=True)
    return list(
        get_user_model().objects.filter(pk__in=member_ids, is_active=True).exclude(email="").order_by("id")
    )


def issue_owners(project: Project, issue: Issue) -> list:
    """Sentry's IssueOwners with fall-through: the assignee (a user, or the members of a team) once
    the issue lifecycle assigns issues; the project's team otherwise."""
    user_id = getattr(issue, "assignee_user_id", None)
    team_id = getattr(issue, "assignee_team_id", None)
    if user_id:
        return _member_users(project, {user_id})
    if team_id:
        users = get_user_model().objects.filter(is_active=True, teams=team_id).exclude(email="")
        return list(users.order_by("id").distinct())
    return team_users(project)


def email_users(project: Project, action: dict, issue: Issue | None) -> list:
    """The users an email action reaches (without an issue, IssueOwners falls through to the team),
    minus those who muted the project's alert mail."""
    target = action.get("targetType")
    if target == "Member":
        users = _member_users(project, {int(action.get("targetIdentifier", 0))})
    elif target == "IssueOwners" and issue is not None:
        users = issue_owners(project, issue)
    else:
        users = team_users(project)
    muted = set(AlertMute.objects.filter(project=project).values_list("user_id", flat=True))
    return [u for u in users if u.pk not in muted]


def webhook_options(action: dict) -> dict:
    return {"format": action.get("format", "sentry"), "secret": action.get("secret", "")}


def apprise_target(url: str) -> str:
    """What the history shows of an apprise URL: its service only (the rest holds tokens)."""
    return url.split("://", 1)[0] + "://…"


def _action_row(key: str, action: dict, options: dict) -> tuple[str, str, str, dict] | None:
    if action.get("id") == rules.WEBHOOK_ACTION:
        return (f"{key}:webhook", "webhook", action["url"], {**options, **webhook_options(action)})
    if action.get("id") == rules.APPRISE_ACTION:
        return (f"{key}:apprise", "apprise", apprise_target(action["url"]), {**options, "url": action["url"]})
    return None


def notify(fire: AlertFire, rule: AlertRule, issue: Issue, now: datetime) -> int:
    project = issue.project
    mail_to: dict[int, str] = {}
    rows = []
    for index, action in enumerate(rule.actions):
        if action.get("id") == rules.EMAIL_ACTION:
            mail_to.update((u.pk, u.email) for u in email_users(project, action, issue))
        elif action.get("id") == rules.WEBHOOK_ACTION:
            rows.append((f"{fire.pk}:webhook:{index}", "webhook", action["url"], webhook_options(action)))
        elif action.get("id") == rules.APPRISE_ACTION:
            rows.append(_action_row(f"{fire.pk}:{index}", action, {}))  # type: ignore[arg-type]
    rows += [
        (f"{fire.pk}:email:{uid}", "email", email, {"user": uid}) for uid, email in sorted(mail_to.items())
    ]
    return _insert(project.pk, fire.pk, rows, now, now)


def test_rows(rule: AlertRule, index: int, click: str) -> list[tuple[str, str, str, dict]]:
    """The rows of a test of one action of a rule: the same recipients, keys unique per click."""
    action = rule.actions[index]
    options: dict = {"test": True, "rule": rule.pk, "action": index}
    row = _action_row(f"test:{click}", action, options)
    if row is not None:
        return [row]
    users = email_users(rule.project, action, None)
    return [(f"test:{click}:email:{u.pk}", "email", u.email, {**options, "user": u.pk}) for u in users]


def summary_notifications(fire: AlertFire, now: datetime) -> int:
    """A fire over the project's hourly cap is held; the team gets one summary mail at the end of
    the hour saying how many were held back (one row per user and hour, whatever the count)."""
    project = Project.objects.prefetch_related("teams").get(pk=fire.project_id)
    hour = hour_of(now)
    muted = set(AlertMute.objects.filter(project=project).values_list("user_id", flat=True))
    rows = [
        (
            f"summary:{project.pk}:{hour:%Y%m%d%H}:{u.pk}",
            "summary",
            u.email,
            {"hour": hour.isoformat(), "user": u.pk},
        )
        for u in team_users(project)
        if u.pk not in muted
    ]
    return _insert(project.pk, None, rows, hour + timedelta(hours=1), now)


def insert_test(project_id: int, rows: list, now: datetime) -> list[int]:
    return [row[0] for row in _insert_rows(project_id, None, rows, now, now)]


def _insert(project_id: int, fire_id: int | None, rows: list, due: datetime, now: datetime) -> int:
    return len(_insert_rows(project_id, fire_id, rows, due, now))


def _insert_rows(project_id: int, fire_id: int | None, rows: list, due: datetime, now: datetime) -> list:
    import json

    return insert_rows(
        "alerts_notification",
        ["project_id", "fire_id", "key", "channel", "target", "options", "status", "attempts",
         "next_attempt_at", "last_error", "created"],
        [(project_id, fire_id, key, channel, target, json.dumps(options), "pending", 0, due, "", now)
         for key, channel, target, options in rows],
        conflict=["key"],
        returning=["id"],
    )  # fmt: skip
