"""The rule page's "send test notification": one action's recipients get a clearly marked test
mail or webhook now, through the same rows and delivery code as a real alert (a row per recipient,
its key unique per click), and the result is on the rule page and in the history."""

from __future__ import annotations

import uuid

from django.utils import timezone

from projects.models import Project

from . import delivery, recipients
from .models import AlertRule, Notification

RECENT_TESTS = 20


def send_test(rule: AlertRule, index: int, user) -> list[Notification]:
    """Creates and delivers the test rows of action `index` at once (one attempt: a failed test is
    shown with its error, not retried). IndexError for an action the rule does not have."""
    if not 0 <= index < len(rule.actions):
        raise IndexError(index)
    now = timezone.now()
    click = f"{rule.pk}:{index}:{uuid.uuid4().hex}"
    rows = recipients.test_rows(rule, index, click)
    for row in rows:
        row[3]["by"] = user.get_username()
    ids = recipients.insert_test(rule.project_id, rows, now)
    for notification_id in ids:
        if delivery.claim(notification_id, now):
            delivery.deliver_one(Notification.objects.get(pk=notification_id), now)
    return list(Notification.objects.filter(pk__in=ids).order_by("id"))


def recent_tests(project: Project, rule: AlertRule | None = None) -> list[Notification]:
    tests = Notification.objects.filter(project=project, fire=None, key__startswith="test:")
    if rule is not None:
        tests = tests.filter(key__startswith=f"test:{rule.pk}:")
    return list(tests.order_by("-created", "-id")[:RECENT_TESTS])
