"""The event page's timeline: the event's breadcrumbs and its trace's log records in one list, by
time. Linked when the page is read (the records may arrive before or after the event)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from logs.records import StoredLog


def _crumb_time(value: Any) -> datetime | None:
    """Breadcrumb times are epoch seconds once normalized; older payloads may hold ISO 8601 text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def merged_timeline(breadcrumbs: list, records: list[StoredLog]) -> list[dict]:
    """Rows `{kind: "breadcrumb" | "log", time, level, category, message, data}`, oldest first;
    a breadcrumb without a readable time keeps its place before the timed rows."""
    rows: list[dict] = []
    for crumb in breadcrumbs:
        if not isinstance(crumb, dict):
            continue
        rows.append(
            {
                "kind": "breadcrumb",
                "time": _crumb_time(crumb.get("timestamp")),
                "level": crumb.get("level") or "",
                "category": crumb.get("category") or crumb.get("type") or "",
                "message": crumb.get("message") or "",
                "data": crumb.get("data") or None,
            }
        )
    for record in records:
        rows.append(
            {
                "kind": "log",
                "time": record.timestamp,
                "level": record.level,
                "category": str(record.attributes.get("logger.name", "")),
                "message": record.body,
                "data": None,
            }
        )
    untimed = [row for row in rows if row["time"] is None]
    timed = sorted((row for row in rows if row["time"] is not None), key=lambda row: row["time"])
    return untimed + timed
