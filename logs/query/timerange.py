"""`statsPeriod`, `start`, `end` and cursors of the logs API, as Sentry spells them. Pure."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from .parser import SearchError

DEFAULT_PERIOD = timedelta(hours=24)
# Every search is bounded in time; the longest a query may span is the longest retention we offer.
MAX_PERIOD = timedelta(days=90)
_PERIOD = re.compile(r"(\d{1,6})([smhdw])\Z")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_CURSOR = re.compile(r"(\d{1,20})-([0-9a-f]{32}):0:0\Z")


def time_range(
    stats_period: str | None, start: str | None, end: str | None, now: datetime
) -> tuple[datetime, datetime]:
    if start or end:
        if not (start and end):
            raise SearchError("start and end go together")
        begin, finish = _moment(start, "start"), _moment(end, "end")
        if finish <= begin:
            raise SearchError("end must be after start")
    else:
        period = _period(stats_period) if stats_period else DEFAULT_PERIOD
        begin, finish = now - period, now + timedelta(seconds=1)
    if finish - begin > MAX_PERIOD + timedelta(seconds=1):
        raise SearchError(f"a search spans at most {MAX_PERIOD.days} days")
    return begin, finish


def _period(value: str) -> timedelta:
    match = _PERIOD.match(value)
    if not match:
        raise SearchError(f"statsPeriod {value!r} is not a period like 15m, 24h or 14d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _moment(value: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise SearchError(f"{name} is not an ISO 8601 date and time") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def encode_cursor(timestamp: datetime, record_id: str) -> str:
    micros = round(timestamp.timestamp() * 1_000_000)
    return f"{micros}-{record_id}:0:0"


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    match = _CURSOR.match(cursor)
    if not match:
        raise SearchError("cursor is not one this API gave out")
    micros = int(match.group(1))
    if micros > 253402300799 * 1_000_000:
        raise SearchError("cursor is not one this API gave out")
    return datetime.fromtimestamp(micros / 1_000_000, UTC), match.group(2)


def bucket_seconds(begin: datetime, end: datetime, buckets: int = 60) -> int:
    """A round bucket width giving about `buckets` bars over the range."""
    span = int((end - begin).total_seconds()) // buckets
    for width in (1, 5, 10, 30, 60, 300, 600, 1800, 3600, 10800, 21600, 43200, 86400):
        if width >= span:
            return width
    return 86400
