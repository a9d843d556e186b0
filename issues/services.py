"""Kept for callers of the first triage write; new code calls issues.lifecycle directly."""

from . import lifecycle
from .models import Issue


def set_status(issue: Issue, status: str, user=None) -> None:
    """Changes one issue's status through the lifecycle (with its activity row) and refreshes it."""
    lifecycle.set_status([issue.pk], user, status)
    issue.refresh_from_db(fields=["status", "substatus", "resolved_at"])
