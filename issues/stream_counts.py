"""The issue stream's counts within the selected range and environments, as Sentry's list shows them:
events and users per issue beside each row, and the sorts by them (`freq`, `user`, `trends`).

Events are exact (hour buckets by environment, whole hours: a range starts at the hour its start is
in). Users are exact while the range is within the hours whose hour-user rows are kept
(buckets.USER_ROWS_KEPT, 25 h: `1h` and `24h`); further back distinct users over a range cannot be
counted from hourly figures, and the count is the sum of the hourly distinct users, at most the
issue's lifetime users: an upper bound (a user seen in several hours is counted in each), which is
what the `user` sort orders by too. RangeStats.users_exact says which one a figure is.

The sorts by range counts read one aggregate of the projects' buckets in the range (an index-only
scan of (project_id, hour) INCLUDE (...) on PostgreSQL, migration 0015) joined to the matching
issues, and return the page's ids: the page's issues are then fetched by id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.utils import timezone

from core.sql import fetch, placeholders

from .buckets import USER_ROWS_KEPT, bucket_moment, environment_filter, hour_of, users_since
from .models import Issue

if TYPE_CHECKING:
    from .stream import Scope

SPARK_POINTS = 30
RANGE_SORTS = ("freq", "user", "trends")


@dataclass
class RangeStats:
    events: int = 0
    users: int = 0
    users_exact: bool = True  # False: an upper bound (see the module's docstring)
    series: list[int] = field(default_factory=list)


def users_countable(scope: Scope) -> bool:
    """Distinct users over the scope's range can be counted exactly from the hour-user rows."""
    return timezone.now() - scope.start <= USER_ROWS_KEPT


def range_stats(issues: list[Issue], scope: Scope) -> dict[int, RangeStats]:
    """Events, users and a sparkline series per issue over the scope's range and environments: two
    queries whatever the number of issues."""
    ids = sorted({i.pk for i in issues})
    first_hour, step, points = _spark_grid(scope)
    stats = {i: RangeStats(series=[0] * points) for i in ids}
    if not ids:
        return stats
    where, chosen = environment_filter(scope.environments)
    rows = fetch(
        "SELECT issue_id, hour, times_seen, users FROM issues_issuehourbucket "
        f"WHERE issue_id IN ({placeholders(len(ids))}) AND hour >= %s AND hour < %s{where}",
        [*ids, first_hour, scope.end, *chosen],
    )
    hourly_users = dict.fromkeys(ids, 0)
    for issue_id, hour, count, users in rows:
        slot = min(points - 1, max(0, int((bucket_moment(hour) - first_hour) / step)))
        stats[issue_id].series[slot] += count
        stats[issue_id].events += count
        hourly_users[issue_id] += users
    if users_countable(scope):
        for issue_id, users in users_since(ids, scope.start, scope.end, scope.environments).items():
            stats[issue_id].users = users
    else:
        for issue in issues:
            stats[issue.pk].users = min(hourly_users[issue.pk], issue.user_count)
            stats[issue.pk].users_exact = False
    return stats


def _spark_grid(scope: Scope) -> tuple[datetime, timedelta, int]:
    """First hour, width and number of the sparkline's bars: whole hours, at most SPARK_POINTS."""
    first_hour = hour_of(scope.start)
    hours = max(1, int((scope.end - first_hour).total_seconds() // 3600) + 1)
    step_hours = max(1, -(-hours // SPARK_POINTS))
    return first_hour, timedelta(hours=step_hours), -(-hours // step_hours)


def ranked_ids(
    found: QuerySet[Issue], scope: Scope, project_ids: list[int], offset: int, limit: int
) -> list[int]:
    """Ids of `found` in the order of a range sort, `limit` of them from `offset` (one query).
    `project_ids`: the projects `found` is within (the aggregate reads their buckets only)."""
    if not project_ids:
        return []
    matching_sql, matching_params = (
        found.order_by().values_list("id", "last_seen", "user_count").query.sql_with_params()
    )
    aggregate, params, order = _range_aggregate(scope, project_ids)
    rows = fetch(
        f"SELECT m.id FROM ({matching_sql}) m LEFT JOIN ({aggregate}) r ON r.issue_id = m.id "
        f"ORDER BY {order} LIMIT %s OFFSET %s",
        [*matching_params, *params, limit, offset],
    )
    return [row[0] for row in rows]


def _range_aggregate(scope: Scope, project_ids: list[int]) -> tuple[str, list, str]:
    """(SQL of `issue_id, n` per issue, its parameters, the ORDER BY over it and the matching `m`)."""
    projects = f"project_id IN ({placeholders(len(project_ids))})"
    where, chosen = environment_filter(scope.environments)
    start, end = hour_of(scope.start), scope.end
    if scope.sort == "trends":  # events in the range minus events in the equal range before it
        previous = hour_of(scope.start - (scope.end - scope.start))
        sql = (
            "SELECT issue_id, SUM(CASE WHEN hour >= %s THEN times_seen ELSE -times_seen END) AS n "
            f"FROM issues_issuehourbucket WHERE {projects} AND hour >= %s AND hour < %s{where} "
            "GROUP BY issue_id"
        )
        return (
            sql,
            [start, *project_ids, previous, end, *chosen],
            "COALESCE(r.n, 0) DESC, m.last_seen DESC, m.id DESC",
        )
    if scope.sort == "user" and users_countable(scope):
        sql = (
            "SELECT issue_id, COUNT(DISTINCT user_key) AS n FROM issues_issuehouruser "
            f"WHERE hour >= %s AND hour < %s{where} GROUP BY issue_id"
        )
        return sql, [start, end, *chosen], "COALESCE(r.n, 0) DESC, m.id DESC"
    column = "users" if scope.sort == "user" else "times_seen"
    sql = (
        f"SELECT issue_id, SUM({column}) AS n FROM issues_issuehourbucket "
        f"WHERE {projects} AND hour >= %s AND hour < %s{where} GROUP BY issue_id"
    )
    params = [*project_ids, start, end, *chosen]
    if scope.sort == "user":  # the upper bound of range_stats: at most the lifetime users
        capped = "CASE WHEN COALESCE(r.n, 0) < m.user_count THEN COALESCE(r.n, 0) ELSE m.user_count END"
        return sql, params, f"{capped} DESC, m.id DESC"
    return sql, params, "COALESCE(r.n, 0) DESC, m.id DESC"
