"""The alert outbox: trigger facts written inside the batch's transaction.

Before the outbox, alerts were computed after the commit, so a worker that died in between lost them
(the redelivered batch stores nothing and reports no new issue). Now the facts commit with the events
or not at all, and the alert task (alerts/tasks.py) consumes them whenever it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone

from core.sql import insert_rows

from . import rules
from .models import AlertRule

if TYPE_CHECKING:
    from issues.store import StoreResult

MAX_TAGS = 50


def record_alert_facts(project_id: int, result: StoreResult) -> int:
    """Outbox rows for this batch: every new or regressed issue, and every issue that received
    events when a rule of the project counts events (frequency, users, spike). Returns the rows."""
    # unignored_issue_ids comes with the issue lifecycle (ignore conditions); absent before it.
    reappeared = set(getattr(result, "unignored_issue_ids", ()) or ())
    flagged = set(result.new_issue_ids) | set(result.regressed_issue_ids) | reappeared
    issue_ids = set(result.events_by_issue) if _counts_events(project_id) else flagged
    if not issue_ids:
        return 0
    now = timezone.now()
    new, regressed = set(result.new_issue_ids), set(result.regressed_issue_ids)
    rows = []
    for issue_id in sorted(issue_ids):
        events = result.events_by_issue.get(issue_id, [])
        flags = (issue_id in new, issue_id in regressed, issue_id in reappeared)
        rows.append((project_id, issue_id, *flags, len(events), _facts(events), now))
    insert_rows(
        "alerts_alertoutbox",
        ["project_id", "issue_id", "is_new", "is_regression", "is_reappeared", "events", "facts", "created"],
        rows,
    )
    return len(rows)


def _counts_events(project_id: int) -> bool:
    conditions = AlertRule.objects.filter(project_id=project_id, enabled=True).values_list(
        "conditions", flat=True
    )
    return any(c.get("id") in rules.COUNTING for conds in conditions for c in conds if isinstance(c, dict))


def _facts(events: list) -> str:
    import json

    if not events:
        return "{}"
    latest = max(events, key=lambda e: e.timestamp)
    return json.dumps(
        {
            "event_id": latest.event_id,
            "level": latest.level,
            "environment": latest.environment,
            "release": latest.release,
            "tags": [list(t) for t in latest.tags[:MAX_TAGS]],
        }
    )
