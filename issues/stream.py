"""The issue stream: which issues a list shows, in which order, and the counts beside each one.

One home for the project list page, the organization list page and the list API:
* scope: the time range (`statsPeriod` 1h/24h/7d/14d/30d/90d, or `start`/`end`) keeps the issues
  seen within it (last seen after its start, first seen before its end), as Sentry does;
  `environment=` keeps the issues with events in those environments (their tag rows);
* sort: Sentry's names, `date` (last seen) and `new` (first seen) on an issue column with an index
  per project and status; `freq` (events in the range), `user` (users in the range) and `trends`
  (events in the range minus events in the equal range before it, then last seen) on the hour
  buckets of the range and environments (issues/stream_counts.py);
* counts: events, users and a sparkline per issue over the range and within the environments, from
  the hour buckets (issues/stream_counts.py: users are exact within the 25 hours that hour-user rows
  are kept, an upper bound further back); the issue's lifetime figures stay on the issue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from .models import Issue, IssueTag
from .search import apply_query
from .search_syntax import SearchError, parse_date
from .stream_counts import RANGE_SORTS, ranked_ids

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
# The order of the sorts on issue columns; the others are RANGE_SORTS (issues/stream_counts.py).
SORTS: dict[str, tuple[str, ...]] = {"date": ("-last_seen", "-id"), "new": ("-first_seen", "-id")}
SORTS.update(dict.fromkeys(RANGE_SORTS, ()))
SORT_WORDS = {"date": "Last seen", "new": "First seen", "freq": "Events", "user": "Users", "trends": "Trend"}
MAX_ENVIRONMENTS = 20
# Totals are counted up to this many (Sentry's X-Max-Hits): a COUNT over every unresolved issue of
# a big project would cost more than the page it comes with.
MAX_HITS = 1000
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


def page_ids(
    found: QuerySet[Issue], scope: Scope, project_ids: list[int], offset: int, limit: int
) -> list[int]:
    """Ids of one page of the ordered list (one query; the range sorts a few, see
    stream_counts.ranked_ids). `project_ids`: the projects the list is of."""
    if scope.sort in RANGE_SORTS:
        return ranked_ids(found, scope, project_ids, offset, limit)
    return list(found.order_by(*SORTS[scope.sort]).values_list("pk", flat=True)[offset : offset + limit])


def page_rows(
    found: QuerySet[Issue], scope: Scope, project_ids: list[int], offset: int, limit: int, related: tuple = ()
) -> list[Issue]:
    """One page of the ordered list with `related` selected: one query for the sorts on issue
    columns; for the range sorts their ids (stream_counts.ranked_ids), then those issues."""
    if scope.sort not in RANGE_SORTS:
        ordered = found.order_by(*SORTS[scope.sort]).select_related(*related)
        return list(ordered[offset : offset + limit])
    ids = ranked_ids(found, scope, project_ids, offset, limit)
    by_id = Issue.objects.select_related(*related).in_bulk(ids)
    return [by_id[i] for i in ids if i in by_id]


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
