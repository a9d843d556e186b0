"""Reading and keeping log records: retention per project and the searches the API and pages run."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from django.conf import settings

from .models import LogRetention
from .query.parser import AttributeTerm, TraceTerm, parse_query, typed_values
from .query.timerange import bucket_seconds, decode_cursor, encode_cursor, time_range
from .records import LogQuery, StoredLog, attribute_type
from .store import get_log_store

TEMPLATE_KEY = "sentry.message.template"

_RETENTION_TTL = 30.0
_retention_cache: dict[int, tuple[float, int]] = {}


def retention_days(project_id: int) -> int:
    """The project's log retention (cached briefly: the worker asks for every batch)."""
    now = time.monotonic()
    hit = _retention_cache.get(project_id)
    if hit and hit[0] > now:
        return hit[1]
    days = LogRetention.objects.filter(project_id=project_id).values_list("days", flat=True).first()
    days = days or settings.LOGS["RETENTION_DAYS"]
    _retention_cache[project_id] = (now + _RETENTION_TTL, days)
    return days


def clear_retention_cache() -> None:
    _retention_cache.clear()


@dataclass
class LogPage:
    records: list[StoredLog]
    next_cursor: str | None
    # The newest record's cursor (or the one a tail asked from): where the next tail poll starts.
    tail_cursor: str | None = None


def build_query(
    project_ids, text: str | None, params: dict[str, str], now: datetime | None = None
) -> LogQuery:
    """A search as the API and pages take it; SearchError says what is wrong with it."""
    begin, end = time_range(params.get("statsPeriod"), params.get("start"), params.get("end"), now or _now())
    return LogQuery(project_ids=tuple(project_ids), start=begin, end=end, terms=tuple(parse_query(text)))


def search_page(query: LogQuery, cursor: str | None, limit: int) -> LogPage:
    if cursor:
        query = replace(query, before=decode_cursor(cursor))
    rows = get_log_store().search(query, limit + 1)
    last = rows[limit - 1] if len(rows) > limit else None
    return LogPage(rows[:limit], encode_cursor(last.timestamp, last.id) if last else None, _newest(rows))


def tail_page(query: LogQuery, after: str, limit: int) -> LogPage:
    """The live tail's poll: up to `limit` records newer than `after` (the oldest of them, so the
    next poll goes on from the newest shown and none is skipped), newest first."""
    moment = decode_cursor(after)
    rows = get_log_store().search(replace(query, after=moment), limit)
    return LogPage(rows, None, _newest(rows) or after)


def start_cursor(moment: datetime) -> str:
    """A tail cursor before every record after `moment` (the logs page with no record yet)."""
    return encode_cursor(moment, "0" * 32)


def _newest(rows: list[StoredLog]) -> str | None:
    return encode_cursor(rows[0].timestamp, rows[0].id) if rows else None


def facets(query: LogQuery) -> dict:
    """Level counts and a histogram of the records a search finds (the logs page's side panels)."""
    store = get_log_store()
    width = bucket_seconds(query.start, query.end)
    return {
        "levels": store.level_counts(query),
        "histogram": store.histogram(query, width),
        "bucket_seconds": width,
    }


def serialize_record(record: StoredLog, project_slugs: dict[int, str]) -> dict:
    template = record.attributes.get(TEMPLATE_KEY)
    return {
        "id": record.id,
        "project": project_slugs.get(record.project_id, str(record.project_id)),
        "projectId": str(record.project_id),
        "timestamp": record.timestamp.isoformat().replace("+00:00", "Z"),
        "level": record.level,
        "severityNumber": record.severity_number,
        "body": record.body,
        "template": template if isinstance(template, str) else None,
        "traceId": record.trace_id or None,
        "spanId": record.span_id or None,
        "attributes": {
            key: {"value": value, "type": attribute_type(value)}
            for key, value in sorted(record.attributes.items())
        },
    }


def _now() -> datetime:
    return datetime.now(UTC)


TRACE_WINDOW = timedelta(days=1)
USER_WINDOW = timedelta(minutes=5)
AROUND_LIMIT = 200
_USER_KEYS = {"id": ("user.id",), "email": ("user.email",), "username": ("user.name", "user.username")}


def logs_around(project_ids, trace_id: str, user: dict, moment: datetime) -> tuple[str, list[StoredLog]]:
    """The records around an error, oldest first: those of its trace (within a day of it); only when
    the trace has none, the same user's within five minutes. Linked when read, not at ingest: an
    error may arrive before or after its logs. Returns ("trace" | "user" | "", records)."""
    store = get_log_store()
    ids = tuple(project_ids)
    if trace_id:
        terms = (TraceTerm(trace_id),)
        query = LogQuery(ids, moment - TRACE_WINDOW, moment + TRACE_WINDOW, terms)
        records = store.search(query, AROUND_LIMIT)
        if records:
            return "trace", records[::-1]
    user_terms = _user_terms(user)
    for term in user_terms:
        records = store.search(
            LogQuery(ids, moment - USER_WINDOW, moment + USER_WINDOW, (term,)), AROUND_LIMIT
        )
        if records:
            return "user", records[::-1]
    return "", []


def _user_terms(user: dict) -> list[AttributeTerm]:
    terms = []
    for field, keys in _USER_KEYS.items():
        value = user.get(field) if isinstance(user, dict) else None
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            terms.append(AttributeTerm(keys, typed_values(str(value), quoted=False)))
    return terms
