"""Sentry's user report object (sentry.api.serializers.models.userreport) and per-issue counts.

`user` is the event's user in Sentry (its EventUser); LightTrace keeps no such rows, so it is null,
and `name` falls back to the email as in Sentry. The `issue` of the project list is added by the
caller (issues/api_feedback.py), which knows issues.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from .models import UserReport


def serialize_report(report: UserReport) -> dict[str, Any]:
    created = report.date_added.isoformat().replace("+00:00", "Z")
    return {
        "id": str(report.pk),
        "eventID": report.event_id,
        "name": report.name or report.email,
        "email": report.email,
        "comments": report.comments,
        "dateCreated": created,
        "user": None,
        "event": {"id": report.event_id, "eventID": report.event_id},
    }


def report_counts(issue_ids: list[int]) -> dict[int, int]:
    """Reports per issue for a page of issues: one query through the issue index, whatever its size."""
    if not issue_ids:
        return {}
    rows = (
        UserReport.objects.filter(issue_id__in=issue_ids)
        .values("issue_id")
        .annotate(n=Count("id"))
        .values_list("issue_id", "n")
    )
    return dict(rows)


def reports_of_events(project_id: int, event_ids: list[str]) -> dict[str, UserReport]:
    """The report of each event (Sentry's event `userReport`), for one event or a page of them."""
    if not event_ids:
        return {}
    found = UserReport.objects.filter(project_id=project_id, event_id__in=event_ids)
    return {r.event_id: r for r in found}
