"""Writing user reports in the worker's batch transaction, and linking them to their issues.

A report and its event may arrive in either order. A report whose event is stored already gets its
issue when written (the caller looks the events up); a report that came first waits with no issue,
and the batch that stores its event links it (link_reports: one indexed query per batch of events).

One report per (project, event_id), as in Sentry: a second one within OVERWRITE_WINDOW of the first
replaces its name, email and comments (a retry, a correction); a later one is dropped (Sentry answers
409: feedback cannot be rewritten long after the fact by whoever holds the public DSN).
"""

from __future__ import annotations

from datetime import timedelta

from core.sql import execute, fetch, insert_rows, placeholders

from .records import PreparedReport

OVERWRITE_WINDOW = timedelta(minutes=5)


def write_reports(project_id: int, reports: list[PreparedReport], issue_of: dict[str, int]) -> int:
    """Stores the reports (issue_of: event id -> issue of the events already stored); returns how many
    were new. A redelivered report finds itself and rewrites the same values."""
    latest: dict[str, PreparedReport] = {}
    for report in sorted(reports, key=lambda r: r.date_added):
        latest[report.event_id] = report  # the last of one event in the batch wins, as it would later
    if not latest:
        return 0
    rows = [
        (project_id, r.event_id, issue_of.get(r.event_id), r.name, r.email, r.comments, r.date_added)
        for r in sorted(latest.values(), key=lambda r: r.event_id)
    ]
    inserted = insert_rows(
        "feedback_userreport",
        ["project_id", "event_id", "issue_id", "name", "email", "comments", "date_added"],
        rows,
        conflict=["project_id", "event_id"],
        returning=["event_id"],
    )
    new = {row[0] for row in inserted}
    for event_id in sorted(set(latest) - new):  # rare: a retry, a correction, a redelivery
        _overwrite(project_id, latest[event_id], issue_of.get(event_id))
    return len(new)


def _overwrite(project_id: int, report: PreparedReport, issue_id: int | None) -> None:
    execute(
        "UPDATE feedback_userreport SET name = %s, email = %s, comments = %s, "
        "issue_id = COALESCE(issue_id, %s) WHERE project_id = %s AND event_id = %s AND date_added >= %s",
        [
            report.name,
            report.email,
            report.comments,
            issue_id,
            project_id,
            report.event_id,
            report.date_added - OVERWRITE_WINDOW,
        ],
    )


def link_reports(project_id: int, issue_of: dict[str, int]) -> None:
    """Reports waiting for these newly stored events (event id -> issue) get their issue. One query
    per batch through the small index of waiting reports, which finds none in the usual case; only
    the reports it finds are updated (an UPDATE carrying every event of the batch cost 4 ms of
    parameter handling on PostgreSQL for 200 events, the probe 0.7 ms: bench/bench_feedback.py)."""
    if not issue_of:
        return
    ids = sorted(issue_of)
    waiting = fetch(
        "SELECT event_id FROM feedback_userreport WHERE project_id = %s AND issue_id IS NULL "
        f"AND event_id IN ({placeholders(len(ids))})",
        [project_id, *ids],
    )
    for (event_id,) in sorted(waiting):
        execute(
            "UPDATE feedback_userreport SET issue_id = %s "
            "WHERE project_id = %s AND event_id = %s AND issue_id IS NULL",
            [issue_of[event_id], project_id, event_id],
        )


def move_reports(issue_ids: list[int], target_id: int) -> None:
    """Merging issues: their reports follow their events into the target."""
    execute(
        f"UPDATE feedback_userreport SET issue_id = %s WHERE issue_id IN ({placeholders(len(issue_ids))})",
        [target_id, *issue_ids],
    )


def follow_events(from_issue_id: int, to_issue_id: int) -> None:
    """Unmerging: the reports of the events that moved to the new issue go with them."""
    execute(
        "UPDATE feedback_userreport SET issue_id = %s WHERE issue_id = %s AND EXISTS (SELECT 1 FROM "
        "issues_event e WHERE e.project_id = feedback_userreport.project_id "
        "AND e.event_id = feedback_userreport.event_id AND e.issue_id = %s)",
        [to_issue_id, from_issue_id, to_issue_id],
    )
