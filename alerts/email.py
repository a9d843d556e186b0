"""Alert mails: multipart text + HTML, from DEFAULT_FROM_EMAIL through EMAIL_URL's backend.

The subject names the project, the level and the issue's title ("Regression" first for a
regression); event content is text in the plain part and escaped by Django's templates in the HTML
part, and control characters never reach a header.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from projects.models import Project

from .content import AlertContent, one_line
from .models import AlertFire

TRIGGER_WORDS = {
    "new": "New issue",
    "regression": "Regression",
    "reappeared": "Unresolved again",
    "frequency": "Frequent issue",
    "users": "Many users affected",
    "spike": "Spike",
    "test": "Test notification",
}


def alert_subject(content: AlertContent) -> str:
    return one_line(f"[{content.project_label}] {content.headline}", 250)


def alert_message(content: AlertContent, to: str, unsubscribe_url: str = "") -> EmailMultiAlternatives:
    """`unsubscribe_url` (the recipient's signed one-click link) goes into the body and into
    RFC 2369 / RFC 8058 headers, so mail clients offer "Unsubscribe" and can POST it directly."""
    context = {
        "c": content,
        "trigger_words": TRIGGER_WORDS.get(content.trigger, content.trigger),
        "unsubscribe_url": unsubscribe_url,
    }
    headers = {"X-LightTrace-Issue": str(content.issue_id), **unsubscribe_headers(unsubscribe_url)}
    message = EmailMultiAlternatives(
        subject=alert_subject(content),
        body=render_to_string("alerts/alert_email.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers=headers,
    )
    message.attach_alternative(render_to_string("alerts/alert_email.html", context), "text/html")
    return message


def unsubscribe_headers(url: str) -> dict[str, str]:
    if not url:
        return {}
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def summary_message(
    project: Project, hour: datetime, to: str, unsubscribe_url: str = ""
) -> EmailMultiAlternatives:
    held = AlertFire.objects.filter(
        project=project, held=True, created__gte=hour, created__lt=hour + timedelta(hours=1)
    )
    context = {
        "project_label": f"{project.organization.slug}/{project.slug}",
        "held": held.count(),
        "issues": held.values("issue_id").distinct().count(),
        "hour": hour,
        "cap": settings.ALERTS["MAX_PER_PROJECT_PER_HOUR"],
        "url": settings.LIGHTTRACE_URL,
        "unsubscribe_url": unsubscribe_url,
    }
    message = EmailMultiAlternatives(
        subject=one_line(f"[{context['project_label']}] {context['held']} alerts held back this hour"),
        body=render_to_string("alerts/summary_email.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers=unsubscribe_headers(unsubscribe_url),
    )
    message.attach_alternative(render_to_string("alerts/summary_email.html", context), "text/html")
    return message
