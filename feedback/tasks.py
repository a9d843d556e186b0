"""Scheduled upkeep of user reports. Reports linked to an issue go with it (issue retention and
deletes cascade); feedback about no stored event (standalone feedback, or an event never sent or
filtered out) is kept as long as the project keeps events, then deleted here."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from projects.models import Project

from .models import UserReport


@shared_task(name="feedback.tasks.expire_user_reports", ignore_result=True)
def expire_user_reports() -> int:
    now = timezone.now()
    waiting = UserReport.objects.filter(issue__isnull=True)
    project_ids = set(waiting.values_list("project_id", flat=True).distinct())
    deleted = 0
    for project_id, days in Project.objects.filter(pk__in=project_ids).values_list("pk", "retention_days"):
        gone, _ = waiting.filter(project_id=project_id, date_added__lt=now - timedelta(days=days)).delete()
        deleted += gone
    return deleted
