"""The issue stream's counts within the selected range and environments, as Sentry's list shows them:
events and users per issue beside each row, and the sorts by them (`freq`, `user`, `trends`).

Events are exact (hour buckets by environment, whole hours: a range starts at the hour its start is
in). Users are exact while the range is within the hours whose hour-user rows are kept
(buckets.USER_ROWS_KEPT, 25 h: `1h` and `24h`); further back distinct users over a range cannot be
counted from hourly figures, and the count is the sum of the hourly distinct users, at most the
issue's lifetime users: an upper bound (a user seen in several hours is counted in each), which is
what the `user` sort orders by too. RangeStats.users_exact says which one a figure is.

The sorts by range counts score candidates read in the order of their lifetime count, which bounds
the count in any range, until no unread issue can reach the page (ranked_ids); the page's issues
are then fetched by id. Where that bound does not prune, one aggregate of the projects' buckets in
the range (an index-only scan of (project_id, hour) INCLUDE (...) on PostgreSQL, migration 0017).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.utils import timezone

from core.sql import fetch, placeholders

from .buckets import USER_ROWS_KEPT, environment_filter, hour_of, users_since
from .models import Issue

if TYPE_CHECKING:
    from .stream import Scope

SPARK_POINTS = 30
RANGE_SORTS = ("freq", "user", "trends")
# Candidates ranked_ids reads by their lifetime bound before it aggregates the whole range instead.
MAX_CANDIDATES = 3200


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
    # The database sums each bar (a CASE over the bars' ends): a page of busy issues has tens of
    # thousands of hour-and-environment buckets in 14 days, too many to bring back and add up here.
    ends = [first_hour + step * (n + 1) for n in range(points - 1)]
    slot = "CASE " + " ".join(f"WHEN hour < %s THEN {n}" for n in range(len(ends))) + f" ELSE {len(ends)} END"
    rows = fetch(
        f"SELECT issue_id, {slot} AS slot, SUM(times_seen), SUM(users) FROM issues_issuehourbucket "
        f"WHERE issue_id IN ({placeholders(len(ids))}) AND hour >= %s AND hour < %s{where} GROUP BY issue_id, slot",
        [*ends, *ids, first_hour, scope.end, *chosen],
    )
    hourly_users = dict.fromkeys(ids, 0)
    for issue_id, bar, count, users in rows:
        stats[issue_id].series[bar] += int(count)
        stats[issue_id].events += int(count)
        hourly_users[issue_id] += int(users)
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
    """Ids of `found` in the order of a range sort, `limit` of them from `offset`.

    An issue's count in a range is at most its lifetime count (`times_seen`, `user_count`; a trend
    at most its events in the range), so the candidates are read in the order of that bound, in
    growing batches, and scored from their own buckets (the (issue_id, hour) covering index): once
    the last place wanted scores above the bound of the last candidate read, no issue not yet read
    can reach the page, and the order is exact. A few queries in all; when that bound does not
    prune (most candidates score nothing in the range), one aggregate of the projects' buckets in
    the range (full_ranked_ids)."""
    wanted = offset + limit
    bound = "user_count" if scope.sort == "user" else "times_seen"
    candidates = found.order_by(f"-{bound}", "-id").values_list("id", bound, "last_seen")
    scored: list[tuple[int, int, datetime]] = []  # (score, id, last seen)
    read, batch = 0, max(2 * wanted, 100)
    while True:
        rows = list(candidates[read : read + batch])
        read += len(rows)
        scores = range_scores({r[0]: r[1] for r in rows}, scope)
        scored += [(scores.get(i, 0), i, last_seen) for i, _, last_seen in rows]
        if len(rows) < batch:
            break
        scored.sort(key=_rank_key(scope), reverse=True)
        if len(scored) >= wanted and scored[wanted - 1][0] > rows[-1][1]:
            break
        if read >= MAX_CANDIDATES:
            return full_ranked_ids(found, scope, project_ids, offset, limit)
        batch *= 2
    scored.sort(key=_rank_key(scope), reverse=True)
    return [i for _, i, _ in scored[offset:wanted]]


def _rank_key(scope: Scope):
    if scope.sort == "trends":  # then last seen, as the sort by a column
        return lambda row: (row[0], row[2], row[1])
    return lambda row: (row[0], row[1])


def range_scores(bounds: dict[int, int], scope: Scope) -> dict[int, int]:
    """The sort's figure per issue (`bounds`: issue id -> its lifetime count, the cap of the users'
    upper bound), from these issues' buckets in the range and environments (one query)."""
    if not bounds:
        return {}
    ids = sorted(bounds)
    aggregate, params = _aggregate(scope, f"issue_id IN ({placeholders(len(ids))})", ids)
    found = {issue_id: int(n) for issue_id, n in fetch(aggregate, params)}
    if scope.sort == "user" and not users_countable(scope):
        return {i: min(n, bounds[i]) for i, n in found.items()}
    return found


def full_ranked_ids(
    found: QuerySet[Issue], scope: Scope, project_ids: list[int], offset: int, limit: int
) -> list[int]:
    """Ids in the order of a range sort from one aggregate of every bucket of the projects in the
    range, joined to the matching issues (one query, reads the whole range)."""
    if not project_ids:
        return []
    matching_sql, matching_params = (
        found.order_by().values_list("id", "last_seen", "user_count").query.sql_with_params()
    )
    where = f"project_id IN ({placeholders(len(project_ids))})"
    aggregate, params = _aggregate(scope, where, project_ids)
    n = "COALESCE(r.n, 0)"
    if scope.sort == "user" and not users_countable(scope):  # at most the lifetime users
        n = f"CASE WHEN {n} < m.user_count THEN {n} ELSE m.user_count END"
    order = f"{n} DESC, m.last_seen DESC, m.id DESC" if scope.sort == "trends" else f"{n} DESC, m.id DESC"
    rows = fetch(
        f"SELECT m.id FROM ({matching_sql}) m LEFT JOIN ({aggregate}) r ON r.issue_id = m.id "
        f"ORDER BY {order} LIMIT %s OFFSET %s",
        [*matching_params, *params, limit, offset],
    )
    return [row[0] for row in rows]


def _aggregate(scope: Scope, which: str, which_params: list) -> tuple[str, list]:
    """SQL of `issue_id, n` per issue of the buckets `which` selects (hour buckets: by issue or
    by project) in the scope's range and environments, and its parameters."""
    where, chosen = environment_filter(scope.environments)
    start, end = hour_of(scope.start), scope.end
    if scope.sort == "trends":  # events in the range minus events in the equal range before it
        previous = hour_of(scope.start - (scope.end - scope.start))
        sql = (
            "SELECT issue_id, SUM(CASE WHEN hour >= %s THEN times_seen ELSE -times_seen END) AS n "
            f"FROM issues_issuehourbucket WHERE {which} AND hour >= %s AND hour < %s{where} GROUP BY issue_id"
        )
        return sql, [start, *which_params, previous, end, *chosen]
    if scope.sort == "user" and users_countable(scope):
        # Hour-user rows carry no project: by project, the join to the matching issues keeps theirs
        # (the table holds 25 hours).
        by_issue = which.startswith("issue_id")
        which, which_params = (f"{which} AND ", which_params) if by_issue else ("", [])
        sql = (
            "SELECT issue_id, COUNT(DISTINCT user_key) AS n FROM issues_issuehouruser "
            f"WHERE {which}hour >= %s AND hour < %s{where} GROUP BY issue_id"
        )
        return sql, [*which_params, start, end, *chosen]
    column = "users" if scope.sort == "user" else "times_seen"
    sql = (
        f"SELECT issue_id, SUM({column}) AS n FROM issues_issuehourbucket "
        f"WHERE {which} AND hour >= %s AND hour < %s{where} GROUP BY issue_id"
    )
    return sql, [*which_params, start, end, *chosen]
