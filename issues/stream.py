"""The issue stream: which issues a list shows, in which order, and the counts beside each one.

One home for the project list page, the organization list page and the list API:
* scope: the time range (`statsPeriod` 1h/24h/7d/14d/30d/90d, or `start`/`end`) keeps the issues
  seen within it (last seen after its start, first seen before its end), as Sentry does;
  `environment=` keeps the issues with events in those environments (their tag rows);
* sort: Sentry's names, `date` (last seen), `new` (first seen), `freq` (events), `user` (users), each
  on an issue column with an index per project and status; `trends`: events in the range minus
  events in the equal range before it (hour buckets), then last seen;
* counts: events and a sparkline per issue over the range from the hour buckets (one query per
  page); distinct users over the range when it is within the 25 hours that hourly user rows are
  kept, else none (the page then shows the issue's total). Buckets carry no environment: with
  `environment=` the issues are filtered, their counts are of every environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Case, F, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.sql import fetch, placeholders

from .buckets import USER_ROWS_KEPT, bucket_moment, hour_of, users_since
from .models import Issue, IssueHourBucket, IssueTag
from .search import apply_query
from .search_syntax import SearchError, parse_date

PERIODS = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "14d": timedelta(days=14),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
}
DEFAULT_PERIOD = "14d"
MAX_RANGE = timedelta(days=90)
SORTS = {
    "date": ("-last_seen", "-id"),
    "new": ("-first_seen", "-id"),
    "freq": ("-times_seen", "-id"),
    "user": ("-user_count", "-id"),
    "trends": ("-trend", "-last_seen", "-id"),
}
SORT_WORDS = {"date": "Last seen", "new": "First seen", "freq": "Events", "user": "Users", "trends": "Trend"}
MAX_ENVIRONMENTS = 20
# Totals are counted up to this many (Sentry's X-Max-Hits): a COUNT over every unresolved issue of
# a big project would cost more than the page it comes with.
MAX_HITS = 1000
SPARK_POINTS = 30
BUILTIN_SEARCHES = [
    ("Unresolved", "is:unresolved"),
    ("Assigned to me", "is:unresolved assigned:me"),
    ("For review", "is:unresolved is:for_review"),
    ("Bookmarks", "bookmarks:me"),
]


@dataclass
class Scope:
    start: datetime
    end: datetime
    period: str = ""  # the statsPeriod asked for, empty for a custom start/end
    # False: no range was asked for and the list is not cut by it (the API's default, as Sentry's
    # project issue list); counts are then over the default period.
    bounded: bool = True
    sort: str = "date"
    environments: list[str] = field(default_factory=list)


def parse_scope(params, default_period: str = DEFAULT_PERIOD, bounded_by_default: bool = True) -> Scope:
    """From query parameters (a QueryDict): `statsPeriod`, `start`, `end`, `sort`, `environment`.
    Raises SearchError with a message for the person who typed them."""
    now = timezone.now()
    sort = params.get("sort") or "date"
    if sort not in SORTS:
        raise SearchError(f"sort must be one of {', '.join(SORTS)}")
    environments = [e for e in params.getlist("environment") if e]
    if len(environments) > MAX_ENVIRONMENTS or any(len(e) > 64 for e in environments):
        raise SearchError(f"environment: at most {MAX_ENVIRONMENTS} names of at most 64 characters")
    start_text, end_text = params.get("start"), params.get("end")
    if start_text or end_text:
        if not (start_text and end_text):
            raise SearchError("start and end go together")
        start, end = _moment("start", start_text, now), _moment("end", end_text, now)
        if end <= start:
            raise SearchError("end must be after start")
        if end - start > MAX_RANGE:
            raise SearchError("a time range is at most 90 days")
        return Scope(start, end, "", True, sort, environments)
    period = params.get("statsPeriod") or default_period
    if period not in PERIODS:
        raise SearchError(f"statsPeriod must be one of {', '.join(PERIODS)}")
    bounded = bounded_by_default or bool(params.get("statsPeriod"))
    return Scope(now - PERIODS[period], now, period, bounded, sort, environments)


def _moment(name: str, text: str, now: datetime) -> datetime:
    op, when = parse_date(name, text, now)
    if op != ">=" or text.startswith(("-", "+")):
        raise SearchError(f"{name} must be a date or time, e.g. 2026-01-01T00:00:00")
    return when


def matching(issues: QuerySet[Issue], query: str | None, scope: Scope, user) -> QuerySet[Issue]:
    """The issues of the list: the search, the time range and the environments (not ordered)."""
    issues = apply_query(issues, query, user)
    if scope.bounded:
        issues = issues.filter(last_seen__gte=scope.start, first_seen__lte=scope.end)
    elif scope.sort == "trends":  # an issue without events in the range has no trend to rank
        issues = issues.filter(last_seen__gte=scope.start)
    if scope.environments:
        tagged = IssueTag.objects.filter(key="environment", value__in=scope.environments)
        issues = issues.filter(pk__in=tagged.values("issue_id"))
    return issues


def capped_count(issues: QuerySet[Issue]) -> int:
    """How many issues match, at most MAX_HITS + 1 (more than MAX_HITS: "1,000+")."""
    return issues.order_by().values("pk")[: MAX_HITS + 1].count()


def ordered(issues: QuerySet[Issue], scope: Scope) -> QuerySet[Issue]:
    if scope.sort == "trends":
        previous = scope.start - (scope.end - scope.start)
        issues = issues.annotate(trend=_trend(previous, scope.start, scope.end))
    return issues.order_by(*SORTS[scope.sort])


def _trend(previous: datetime, start: datetime, end: datetime):
    """Events in [start, end) minus events in [previous, start), in one pass over each issue's
    buckets (two subqueries read them twice; bench/issue_scale.py at 100,000 issues: the page's
    trends sort 811 -> 504 ms, the API's 388 -> 352 ms, still over the 200 ms target)."""
    buckets = IssueHourBucket.objects.filter(
        issue_id=OuterRef("pk"), hour__gte=hour_of(previous), hour__lt=end
    )
    signed = Case(When(hour__gte=hour_of(start), then=F("times_seen")), default=-F("times_seen"))
    total = buckets.values("issue_id").annotate(n=Sum(signed)).values("n")
    return Coalesce(Subquery(total, output_field=IntegerField()), Value(0))


@dataclass
class RangeStats:
    events: int = 0
    users: int | None = None  # None: not countable over this range (see the module's docstring)
    series: list[int] = field(default_factory=list)


def range_stats(issue_ids: list[int], scope: Scope) -> dict[int, RangeStats]:
    """Events, users and a sparkline series per issue over the scope's range: two queries whatever
    the number of issues."""
    ids = sorted(set(issue_ids))
    first_hour, step, points = _spark_grid(scope)
    stats = {i: RangeStats(series=[0] * points) for i in ids}
    if not ids:
        return stats
    rows = fetch(
        "SELECT issue_id, hour, times_seen FROM issues_issuehourbucket "
        f"WHERE issue_id IN ({placeholders(len(ids))}) AND hour >= %s AND hour < %s",
        [*ids, first_hour, scope.end],
    )
    for issue_id, hour, count in rows:
        slot = min(points - 1, max(0, int((bucket_moment(hour) - first_hour) / step)))
        stats[issue_id].series[slot] += count
        stats[issue_id].events += count
    if timezone.now() - scope.start <= USER_ROWS_KEPT:
        for issue_id, users in users_since(ids, scope.start, until=scope.end).items():
            stats[issue_id].users = users
    return stats


def _spark_grid(scope: Scope) -> tuple[datetime, timedelta, int]:
    """First hour, width and number of the sparkline's bars: whole hours, at most SPARK_POINTS."""
    first_hour = hour_of(scope.start)
    hours = max(1, int((scope.end - first_hour).total_seconds() // 3600) + 1)
    step_hours = max(1, -(-hours // SPARK_POINTS))
    return first_hour, timedelta(hours=step_hours), -(-hours // step_hours)


def sparkline_svg(series: list[int], width: int = 120, height: int = 24) -> str:
    """An inline SVG of bars (numbers only, nothing from an event reaches it)."""
    if not series:
        return ""
    top = max(series) or 1
    bar = width / len(series)
    rects = []
    for n, count in enumerate(series):
        h = 0 if count == 0 else max(1.0, height * count / top)
        rects.append(
            f'<rect x="{n * bar:.1f}" y="{height - h:.1f}" width="{max(bar - 1, 1):.1f}" height="{h:.1f}"/>'
        )
    return (
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="events over the range: {sum(series)}">{"".join(rects)}</svg>'
    )
