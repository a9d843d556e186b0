"""What the batch writer records about releases and environments, inside the batch's transaction.

A release exists as soon as an event names it (Sentry's behaviour): the first event creates it for
the organization, links the project, and every stored event moves its first and last event dates.
All of it is upserts (ON CONFLICT), so redelivered batches and concurrent workers are harmless;
`new_groups` moves only by issues the batch really created.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from django.utils import timezone

from core.sql import fetch, insert_rows

from .models import is_valid_version

MAX_ENVIRONMENT_LENGTH = 64


class EventFacts(Protocol):
    release: str
    environment: str
    timestamp: datetime


def valid_environment(name: str) -> bool:
    # Sentry refuses names it could not show in a URL or a dropdown.
    return bool(name) and len(name) <= MAX_ENVIRONMENT_LENGTH and not set(name) & set("\r\n\f\t/")


def _organization_id(project_id: int) -> int:
    # One indexed lookup per batch; a process-wide cache would outlive a deleted and recreated id.
    (row,) = fetch("SELECT organization_id FROM projects_project WHERE id = %s", [project_id])
    return row[0]


def record_releases(
    project_id: int, events: Sequence[EventFacts], new_issue_events: Sequence[EventFacts]
) -> None:
    """events: the events the batch stored; new_issue_events: the event that opened each new issue."""
    spans: dict[str, list] = {}  # version -> [first, last, new issues, events]
    for event in events:
        if not is_valid_version(event.release):
            continue
        span = spans.setdefault(event.release, [event.timestamp, event.timestamp, 0, 0])
        span[0], span[1] = min(span[0], event.timestamp), max(span[1], event.timestamp)
        span[3] += 1
    for event in new_issue_events:
        if event.release in spans:
            spans[event.release][2] += 1
    if spans:
        _upsert_releases(project_id, spans)
    environments = sorted({e.environment for e in events if valid_environment(e.environment)})
    if environments:
        record_environments(project_id, environments)


def _upsert_releases(project_id: int, spans: dict[str, list]) -> None:
    now = timezone.now()
    rows = insert_rows(
        "releases_release",
        ["organization_id", "version", "ref", "url", "status", "date_added", "first_event", "last_event"],
        [(_organization_id(project_id), v, "", "", "open", now, *spans[v][:2]) for v in sorted(spans)],
        conflict=["organization_id", "version"],
        update_sql=_widen("releases_release"),
        returning=["id", "version"],
    )
    insert_rows(
        "releases_releaseproject",
        ["release_id", "project_id", "new_groups", "event_count", "first_event", "last_event"],
        sorted((rid, project_id, spans[v][2], spans[v][3], *spans[v][:2]) for rid, v in rows),
        conflict=["project_id", "release_id"],
        update_sql="new_groups = releases_releaseproject.new_groups + excluded.new_groups, "
        "event_count = releases_releaseproject.event_count + excluded.event_count, "
        + _widen("releases_releaseproject"),
    )


def _widen(table: str) -> str:
    """first_event only moves earlier, last_event only later (events arrive in any order)."""
    return (
        f"first_event = CASE WHEN {table}.first_event IS NULL OR excluded.first_event < {table}.first_event "
        f"THEN excluded.first_event ELSE {table}.first_event END, "
        f"last_event = CASE WHEN {table}.last_event IS NULL OR excluded.last_event > {table}.last_event "
        f"THEN excluded.last_event ELSE {table}.last_event END"
    )


def record_environments(project_id: int, names: Sequence[str]) -> None:
    insert_rows(
        "releases_environment",
        ["project_id", "name", "is_hidden", "date_added"],
        [(project_id, name, False, timezone.now()) for name in sorted(names)],
        conflict=["project_id", "name"],
    )
