"""Scheduled upkeep of the log store. Thin: the store does the work."""

from __future__ import annotations

from datetime import UTC, datetime

from celery import shared_task
from django.conf import settings

from .models import LogRetention
from .store import get_log_store


@shared_task(name="logs.tasks.maintain_log_store", ignore_result=True)
def maintain_log_store() -> int:
    """Partitions for the days ahead, then records past their project's retention removed
    (whole day partitions on PostgreSQL). Returns what was removed (partitions or rows)."""
    store = get_log_store()
    now = datetime.now(UTC)
    store.prepare(now)
    retention = dict(LogRetention.objects.values_list("project_id", "days"))
    return store.expire(now, retention, settings.LOGS["RETENTION_DAYS"])
