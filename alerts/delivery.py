"""Delivering notifications: each row is claimed by one conditional UPDATE (a lease), sent, then
marked sent, or rescheduled with exponential backoff and its error kept for the history page.

A worker killed mid-send leaves a lease that expires (lease(), ALERT_DELIVERY_LEASE_SECONDS): the row is sent again then, so an
alert is never lost (at worst one mail repeated after a crash inside the SMTP conversation); two
workers never hold the same lease, so they never send it twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db.models import F, Q
from django.utils import timezone

from issues.models import Issue
from projects.models import Project

from . import safe_http, unsubscribe, webhook
from .content import alert_content, test_content
from .email import alert_message, summary_message
from .models import AlertFire, Notification

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(seconds=10)


def lease() -> timedelta:
    """How long a claimed row stays a worker's. Longer than any one send can take (SMTP and HTTP
    time out after EMAIL_TIMEOUT_SECONDS / safe_http's timeouts), or a slow send could be claimed
    again by another worker while it is still under way."""
    return timedelta(seconds=settings.ALERTS["DELIVERY_LEASE_SECONDS"])


def retry_delay(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s, 80 s, 160 s after attempts 1..5."""
    return FIRST_RETRY * (2 ** max(0, attempts - 1))


def due_ids(now: datetime, limit: int) -> list[int]:
    due = Q(status=Notification.Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Notification.Status.SENDING, lease_until__lt=now
    )
    return list(
        Notification.objects.filter(due)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def claim(notification_id: int, now: datetime) -> bool:
    due = Q(status=Notification.Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Notification.Status.SENDING, lease_until__lt=now
    )
    return bool(
        Notification.objects.filter(due, pk=notification_id).update(
            status=Notification.Status.SENDING, lease_until=now + lease(), attempts=F("attempts") + 1
        )
    )


def deliver_due(limit: int = 20, now: datetime | None = None) -> tuple[int, bool]:
    """(delivered, more due). Never raises for a failed delivery: that is recorded on its row."""
    now = now or timezone.now()
    ids = due_ids(now, limit)
    delivered = 0
    for notification_id in ids:
        if claim(notification_id, now):
            delivered += deliver_one(Notification.objects.get(pk=notification_id), now)
    return delivered, len(ids) == limit


def deliver_one(notification: Notification, now: datetime) -> int:
    try:
        send(notification)
    except Exception as exc:  # anything: SMTP, HTTP, a template; recorded, retried
        _failed(notification, exc, now)
        return 0
    Notification.objects.filter(pk=notification.pk).update(
        status=Notification.Status.SENT, sent_at=timezone.now(), lease_until=None, last_error=""
    )
    return 1


def _failed(notification: Notification, exc: Exception, now: datetime) -> None:
    error = f"{type(exc).__name__}: {exc}"[:1000]
    # A test is one attempt: its error is the answer the person who clicked is waiting for.
    # An issue deleted since (or pending deletion, hidden as if it were) is never alerted on.
    final = (
        notification.attempts >= MAX_ATTEMPTS
        or isinstance(exc, safe_http.UnsafeDestination | Issue.DoesNotExist)
        or bool((notification.options or {}).get("test"))
    )
    log.warning("notification %s attempt %d failed: %s", notification.pk, notification.attempts, error)
    Notification.objects.filter(pk=notification.pk).update(
        status=Notification.Status.FAILED if final else Notification.Status.PENDING,
        next_attempt_at=now + retry_delay(notification.attempts),
        lease_until=None,
        last_error=error,
    )


def send(notification: Notification) -> None:
    options = notification.options or {}
    link = unsubscribe.url_for(options["user"], notification.project_id) if "user" in options else ""
    if notification.channel == "summary":
        project = Project.objects.select_related("organization").get(pk=notification.project_id)
        hour = datetime.fromisoformat(options["hour"])
        _send_mail(summary_message(project, hour, notification.target, link))
        return
    if options.get("test"):
        content = test_content(notification)
    else:
        content = alert_content(AlertFire.objects.select_related("rule").get(pk=notification.fire_id))
    if notification.channel == "email":
        _send_mail(alert_message(content, notification.target, link))
    elif notification.channel == "webhook":
        body, headers = webhook.request_for(
            options.get("format", "sentry"), options.get("secret", ""), content
        )
        safe_http.post(notification.target, body, headers)
    elif notification.channel == "apprise":
        from .apprise_send import send as apprise_send  # apprise loads only where alerts are sent

        # apprise escapes the body for each service but passes a separate title through as it is:
        # the title holds no event content (level and slugs), the issue's title leads the body.
        title = f"{content.level.upper()} alert in {content.project_label}"
        apprise_send(options["url"], title, apprise_text(content))
    else:
        raise ValueError(f"unknown channel {notification.channel!r}")


def apprise_text(c) -> str:
    """Plain text (apprise escapes it for each service): why, the facts, the issue's link."""
    lines = [
        c.headline,
        c.why,
        f"Project: {c.project_label}",
        f"Events: {c.times_seen}, users: {c.user_count}",
    ]
    lines += [f"Environment: {c.environment}"] if c.environment else []
    lines += [f"Release: {c.release}"] if c.release else []
    return "\n".join([*lines, c.permalink])


def _send_mail(message) -> None:
    with get_connection(fail_silently=False) as connection:
        connection.send_messages([message])
