"""What an issue's tags add up to: each key's total and its top values by count, one key's values
page by page, and the affected users (the values of the `user` tag).

Reads `IssueTag` (a search of the `user` key also the users' identifiers), whose rows the batch writer upserts with a count per (issue, key, value) in
the batch's transaction (issues/store.py): summaries are the N most frequent values of each key,
never the first N rows, and no query counts events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, F, Max, Min, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber

from .affected_users import matching_tag_values
from .models import IssueTag

TOP_VALUES = 9  # Sentry's issue page shows the top 9 values of each key
MAX_KEYS = 100
USER_KEY = "user"
# Sentry's labels for well-known keys; any other key is its own label.
KEY_LABELS = {
    "user": "User",
    "release": "Release",
    "dist": "Distribution",
    "os": "OS",
    "url": "URL",
    "server_name": "Server",
    "browser": "Browser",
    "runtime": "Runtime",
    "environment": "Environment",
    "level": "Level",
    "handled": "Handled",
    "mechanism": "Mechanism",
    "transaction": "Transaction",
    "logger": "Logger",
}
# The `?sort=` of Sentry's tag values endpoint (prefix `-` for descending); default `-id`.
VALUE_SORTS = {"age": "first_seen", "count": "times_seen", "date": "last_seen", "id": "id"}


@dataclass
class TagKey:
    key: str
    total: int  # events carrying the key (the sum of its values' counts)
    unique: int  # distinct values
    first_seen: datetime
    last_seen: datetime
    top: list[IssueTag]

    @property
    def label(self) -> str:
        return key_label(self.key)


def key_label(key: str) -> str:
    return KEY_LABELS.get(key, key)


def tag_keys(issue_id: int, keys: list[str] | None = None, top: int = TOP_VALUES) -> list[TagKey]:
    """Every key of the issue (at most MAX_KEYS, by name) with its `top` values: two queries (one
    with `top=0`)."""
    rows = IssueTag.objects.filter(issue_id=issue_id)
    if keys is not None:
        rows = rows.filter(key__in=keys)
    totals = list(
        rows.values("key")
        .annotate(total=Sum("times_seen"), unique=Count("id"), first=Min("first_seen"), last=Max("last_seen"))
        .order_by("key")[:MAX_KEYS]
    )
    if not totals:
        return []
    names = [t["key"] for t in totals]
    tops: dict[str, list[IssueTag]] = {name: [] for name in names}
    ranked = (
        IssueTag.objects.filter(issue_id=issue_id, key__in=names)
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("key")], order_by=[F("times_seen").desc(), F("value").asc()]
            )
        )
        .filter(rank__lte=top)
        .order_by("key", "rank")
    )
    for tag in ranked if top > 0 else ():
        tops[tag.key].append(tag)
    return [
        TagKey(t["key"], int(t["total"] or 0), t["unique"], t["first"], t["last"], tops[t["key"]])
        for t in totals
    ]


def tag_values(issue_id: int, key: str, sort: str = "-count", search: str = "") -> QuerySet[IssueTag]:
    """One key's values in Sentry's sort order; `search` narrows to values containing it, and for
    the `user` key to the users with an identifier starting with it (issues/affected_users.py)."""
    descending = sort.startswith("-")
    column = VALUE_SORTS.get(sort.lstrip("-"), "times_seen")
    order = f"-{column}" if descending else column
    rows = IssueTag.objects.filter(issue_id=issue_id, key=key)
    if search:
        found = Q(value__icontains=search[:200])
        if key == USER_KEY:  # also any identifier of the user, not only the one the tag spells out
            found |= Q(value__in=matching_tag_values(issue_id, search))
        rows = rows.filter(found)
    return rows.order_by(order, "-id" if descending else "id")


def users_last_seen_since(issue_id: int, since: datetime) -> int:
    """Distinct users whose last event of the issue is at or after `since` (the `user` tag keeps
    each user's last sighting), for ranges longer than the day of per-hour user rows."""
    return IssueTag.objects.filter(issue_id=issue_id, key=USER_KEY, last_seen__gte=since).count()


def serialize_value(tag: IssueTag) -> dict[str, Any]:
    """Sentry's tag value: `key` and `name` are the value itself (names of users are not kept)."""
    return {
        "key": tag.value,
        "name": tag.value,
        "value": tag.value,
        "count": tag.times_seen,
        "lastSeen": _iso(tag.last_seen),
        "firstSeen": _iso(tag.first_seen),
    }


def serialize_key(tag_key: TagKey) -> dict[str, Any]:
    return {
        "key": tag_key.key,
        "name": tag_key.label,
        "uniqueValues": tag_key.unique,
        "totalValues": tag_key.total,
        "topValues": [serialize_value(t) for t in tag_key.top],
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None
