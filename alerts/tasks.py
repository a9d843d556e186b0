"""Celery tasks of alerts. Thin and idempotent, no arguments: the work waits in tables (the outbox,
due notifications), so a task run twice or lost costs nothing; the scheduler also runs both every
few seconds, which is what retries wait for."""

from __future__ import annotations

from celery import shared_task

from core.dispatch import send_task

from .delivery import deliver_due
from .services import process_outbox, prune_outbox

DELIVER_TASK = "alerts.tasks.deliver_notifications"


@shared_task(name="alerts.tasks.process_alert_outbox", ignore_result=True)
def process_alert_outbox() -> int:
    """Evaluates the outbox, then delivers what it created right here (one broker round trip less
    for the first attempt; retries come from the scheduled delivery task)."""
    created = 0
    while True:
        rows, notifications = process_outbox()
        created += notifications
        if rows == 0:
            break
    if created:
        deliver_notifications.run()
    return created


@shared_task(name="alerts.tasks.deliver_notifications", ignore_result=True)
def deliver_notifications() -> int:
    delivered, more = deliver_due()
    if more:
        send_task(DELIVER_TASK)
    return delivered


@shared_task(name="alerts.tasks.prune_alert_outbox", ignore_result=True)
def prune_alert_outbox() -> int:
    return prune_outbox()
