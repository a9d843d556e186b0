"""What an alert says, gathered once for every channel (mail, webhooks): plain values, never markup;
each channel escapes them for its own format."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.conf import settings
from django.urls import reverse

from issues.eventinfo import main_exception
from issues.models import Event, Issue
from issues.payload import decode_event_data
from issues.serializers import iso, issue_permalink
from projects.models import Project

from .models import AlertFire, AlertRule, Notification

MAX_FRAMES = 5
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def one_line(text: str, limit: int = 200) -> str:
    return _CONTROL.sub(" ", text).strip()[:limit]


@dataclass
class AlertContent:
    trigger: str
    why: str
    rule_id: str
    rule_name: str
    issue_id: int
    short_id: str
    title: str
    culprit: str
    level: str
    platform: str
    project_label: str
    permalink: str
    issue_api_url: str
    times_seen: int
    user_count: int
    first_seen: str | None
    last_seen: str | None
    environment: str = ""
    release: str = ""
    event_id: str = ""
    exception_type: str = ""
    exception_value: str = ""
    frames: list[dict] = field(default_factory=list)
    tags: list[tuple[str, str]] = field(default_factory=list)
    installation: str = ""

    @property
    def headline(self) -> str:
        if self.trigger == "test":
            return one_line(f"[TEST] {self.title}", 250)
        prefix = "Regression: " if self.trigger == "regression" else ""
        return one_line(f"{prefix}{self.level.upper()}: {self.title}", 250)


def alert_content(fire: AlertFire) -> AlertContent:
    issue = Issue.objects.select_related("project__organization").get(pk=fire.issue_id)
    facts = fire.facts or {}
    event = _event(issue, facts.get("event_id", ""))
    data = decode_event_data(event.data) if event is not None else {}
    exc = main_exception(data) or {}
    project = issue.project
    return AlertContent(
        trigger=fire.trigger,
        why=fire.reason,
        rule_id=str(fire.rule_id),
        rule_name=fire.rule.name,
        issue_id=issue.pk,
        short_id=issue.short_id_display,
        title=issue.title,
        culprit=issue.culprit,
        level=facts.get("level") or issue.level,
        platform=issue.platform,
        project_label=f"{project.organization.slug}/{project.slug}",
        permalink=issue_permalink(issue),
        issue_api_url=f"{settings.LIGHTTRACE_URL}/api/0/issues/{issue.pk}/",
        times_seen=issue.times_seen,
        user_count=issue.user_count,
        first_seen=iso(issue.first_seen),
        last_seen=iso(issue.last_seen),
        environment=facts.get("environment", ""),
        release=facts.get("release") or issue.last_release,
        event_id=event.event_id if event is not None else "",
        exception_type=str(exc.get("type") or ""),
        exception_value=str(exc.get("value") or "")[:2000],
        frames=top_frames(exc),
        tags=[(str(k), str(v)) for k, v in facts.get("tags", [])][:30],
        installation=settings.LIGHTTRACE_URL,
    )


def _event(issue: Issue, event_id: str) -> Event | None:
    events = Event.objects.filter(issue=issue)
    return (events.filter(event_id=event_id).first() if event_id else None) or events.order_by(
        "-timestamp", "-id"
    ).first()


def top_frames(exc: dict) -> list[dict]:
    """The innermost in-app frames (all frames when none is in-app), most recent first."""
    frames = [f for f in ((exc.get("stacktrace") or {}).get("frames") or []) if isinstance(f, dict)]
    in_app = [f for f in frames if f.get("in_app")] or frames
    return [
        {
            "where": one_line(str(f.get("module") or f.get("filename") or f.get("abs_path") or "?")),
            "function": one_line(str(f.get("function") or "?")),
            "lineno": f.get("lineno") if isinstance(f.get("lineno"), int) else None,
            "line": one_line(str(f.get("context_line") or ""), 200),
        }
        for f in reversed(in_app[-MAX_FRAMES:])
    ]


def test_content(notification: Notification) -> AlertContent:
    """A sample alert that says it is a test, for the rule and project of `notification`."""
    project = Project.objects.select_related("organization").get(pk=notification.project_id)
    options = notification.options or {}
    rule = AlertRule.objects.filter(pk=options.get("rule")).first()
    rule_name = rule.name if rule else "a deleted rule"
    page = reverse("alert-rules", args=[project.organization.slug, project.slug])
    return AlertContent(
        trigger="test",
        why=f"A test of rule {rule_name!r}, sent by {options.get('by', 'someone')}: no issue fired.",
        rule_id=str(options.get("rule", "")),
        rule_name=rule_name,
        issue_id=0,
        short_id="TEST",
        title="Test notification from LightTrace",
        culprit="",
        level="info",
        platform="other",
        project_label=f"{project.organization.slug}/{project.slug}",
        permalink=f"{settings.LIGHTTRACE_URL}{page}",
        issue_api_url="",
        times_seen=0,
        user_count=0,
        first_seen=None,
        last_seen=None,
    )
