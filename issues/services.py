"""Triage writes. Each is one UPDATE, so it cannot race the batch writer's counter updates."""

from django.utils import timezone

from .models import Issue


def set_status(issue: Issue, status: str) -> None:
    if status not in Issue.Status.values:
        raise ValueError(f"unknown status {status!r}")
    substatus = {
        Issue.Status.RESOLVED: "",
        Issue.Status.IGNORED: Issue.Substatus.ARCHIVED_FOREVER,
        Issue.Status.UNRESOLVED: Issue.Substatus.ONGOING,
    }[Issue.Status(status)]
    resolved_at = timezone.now() if status == Issue.Status.RESOLVED else None
    Issue.objects.filter(pk=issue.pk).update(status=status, substatus=substatus, resolved_at=resolved_at)
    issue.status, issue.substatus, issue.resolved_at = status, substatus, resolved_at
