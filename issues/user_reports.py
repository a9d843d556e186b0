"""User reports (feedback/) as issues see them: written with the issue of their event when it is
stored already, and read for the API with their issue (Sentry's UserReportWithGroupSerializer)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from core.sql import fetch, placeholders
from feedback.models import UserReport
from feedback.records import PreparedReport
from feedback.serializers import serialize_report
from feedback.store import OVERWRITE_WINDOW, write_reports

from .models import Issue
from .serializers import ISSUE_RELATIONS, serialize_issues

# Like Sentry, feedback on an event stored longer ago than this is refused: whoever holds the public
# DSN must not attach comments to old events.
REPORT_MAX_EVENT_AGE = timedelta(minutes=30)


def store_user_reports(project_id: int, reports: list[PreparedReport]) -> int:
    """A batch's user reports, linked at once to the issues of their events if stored (one query
    through the unique (project, event_id) index); the others wait for their event (store_events)."""
    ids = sorted({r.event_id for r in reports})
    if not ids:
        return 0
    known = stored_events(project_id, ids)
    kept = [r for r in reports if r.event_id not in known or _recent(known[r.event_id][1], r.date_added)]
    return write_reports(project_id, kept, {e: issue for e, (issue, _) in known.items()})


class ReportConflict(Exception):
    """Sentry's 409: the event is too old, or its report was written too long ago, to be changed."""


@transaction.atomic
def submit_user_report(project_id: int, report: PreparedReport) -> UserReport:
    """Sentry's legacy submit endpoint: one report, written now with the batch writer's rules, or
    ReportConflict saying why not (the worker drops such reports silently instead)."""
    event = stored_events(project_id, [report.event_id]).get(report.event_id)
    if event is not None and not _recent(event[1], report.date_added):
        raise ReportConflict("Feedback for this event cannot be modified.")
    existing = UserReport.objects.filter(project_id=project_id, event_id=report.event_id).first()
    if existing is not None and existing.date_added < report.date_added - OVERWRITE_WINDOW:
        raise ReportConflict("Feedback for this event cannot be modified.")
    write_reports(project_id, [report], {report.event_id: event[0]} if event else {})
    return UserReport.objects.get(project_id=project_id, event_id=report.event_id)


def project_reports(project_id: int, status: str) -> QuerySet[UserReport]:
    """Sentry's project list: reports linked to an issue, by default only of unresolved issues
    (`status=` empty: of every issue). Feedback about no event is on the project's page only."""
    reports = UserReport.objects.filter(project_id=project_id, issue__isnull=False)
    if status:
        reports = reports.filter(issue__status=status)
    return reports.order_by("-date_added", "-id")


def stored_events(project_id: int, event_ids: list[str]) -> dict[str, tuple[int, datetime]]:
    """event id -> (issue, received) of the project's events among event_ids."""
    rows = fetch(
        "SELECT event_id, issue_id, received FROM issues_event "
        f"WHERE project_id = %s AND event_id IN ({placeholders(len(event_ids))})",
        [project_id, *event_ids],
    )
    return {event_id: (issue_id, _aware(received)) for event_id, issue_id, received in rows}


def _recent(received: datetime, reported: datetime) -> bool:
    return received >= reported - REPORT_MAX_EVENT_AGE


def _aware(value) -> datetime:
    if isinstance(value, str):  # SQLite through a raw cursor
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def serialize_reports_with_issues(reports: list[UserReport], user) -> list[dict[str, Any]]:
    """A page of reports with Sentry's `issue`: a fixed number of queries for any page size."""
    issue_ids = {r.issue_id for r in reports if r.issue_id}
    issues = list(Issue.objects.filter(pk__in=issue_ids).select_related(*ISSUE_RELATIONS))
    by_id = {int(data["id"]): data for data in serialize_issues(issues, user)} if issues else {}
    return [{**serialize_report(r), "issue": by_id.get(r.issue_id) if r.issue_id else None} for r in reports]
