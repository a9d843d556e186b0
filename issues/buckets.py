"""Per-issue time buckets: events per issue, hour and environment (with distinct users), and per
issue and minute.

The batch writer calls record_buckets() inside the batch's transaction with the events RETURNING said
were really inserted, so a redelivered batch adds nothing and concurrent workers add each event once
(ON CONFLICT upserts, rows in sorted order). Buckets go by the time an event was *received*, not its
SDK timestamp: a client with a wrong clock cannot put counts into the past or future, and "the last
M minutes" of an alert trigger means what arrived in the last M minutes.

What is exact:
* `IssueHourBucket.times_seen` and `IssueMinuteBucket.times_seen`: every stored event counted once.
* `IssueHourBucket.users`: distinct users of that hour, exact (an `IssueHourUser` row per issue, hour
  and user decides, inserted ON CONFLICT DO NOTHING). Users of several hours cannot be summed; distinct
  users over a window of whole hours is exact while the `IssueHourUser` rows are kept
  (USER_ROWS_KEPT), so user-count triggers look back at most that far, rounded out to whole hours.
* Daily series are sums of hourly counts (events only).
* Environments: hour buckets and hour-user rows carry the event's environment ('' for none), so
  counts within some environments are exact too; readers without environments sum over all of them
  (events), or count distinct user keys over all of them (users). An hour bucket's `users` is per
  environment: a user seen in two environments in one hour is in both buckets. Minute buckets (the
  alert triggers' short windows) carry none.

Retention (expire_buckets, scheduled): hourly buckets HOUR_BUCKETS_KEPT, minute buckets
MINUTE_BUCKETS_KEPT, user rows USER_ROWS_KEPT.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import F, Sum, Value
from django.db.models.functions import TruncDay
from django.utils import timezone

from core.sql import execute, fetch, insert_rows, placeholders

from .models import IssueHourBucket, IssueHourUser, IssueMinuteBucket

if TYPE_CHECKING:
    from .store import PreparedEvent

HOUR_BUCKETS_KEPT = timedelta(days=90)
MINUTE_BUCKETS_KEPT = timedelta(hours=3)
USER_ROWS_KEPT = timedelta(hours=25)


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def record_buckets(project_id: int, by_issue: dict[int, list[PreparedEvent]]) -> None:
    """Count newly inserted events of one project into their issues' buckets (inside the batch's
    transaction)."""
    hours: Counter = Counter()
    minutes: Counter = Counter()
    user_rows: set[tuple[int, datetime, str, str]] = set()
    for issue_id, events in by_issue.items():
        for event in events:
            environment = event.environment or ""
            hours[(issue_id, hour_of(event.received), environment)] += 1
            minutes[(issue_id, minute_of(event.received))] += 1
            if event.user_key:
                user_rows.add((issue_id, hour_of(event.received), environment, event.user_key))
    new_users = _insert_hour_users(user_rows)
    # Plain multi-row INSERTs (one statement each): a batch has few distinct issue-hours, and
    # COPY's temporary table would cost four statements per table.
    insert_rows(
        "issues_issuehourbucket",
        ["issue_id", "project_id", "hour", "environment", "times_seen", "users"],
        [
            (i, project_id, h, env, n, new_users.get((i, _key(h), env), 0))
            for (i, h, env), n in sorted(hours.items())
        ],
        conflict=["issue_id", "hour", "environment"],
        update_sql=(
            "times_seen = issues_issuehourbucket.times_seen + excluded.times_seen, "
            "users = issues_issuehourbucket.users + excluded.users"
        ),
    )
    insert_rows(
        "issues_issueminutebucket",
        ["issue_id", "minute", "times_seen"],
        [(i, m, n) for (i, m), n in sorted(minutes.items())],
        conflict=["issue_id", "minute"],
        update_sql="times_seen = issues_issueminutebucket.times_seen + excluded.times_seen",
    )


def bucket_moment(value: datetime | str) -> datetime:
    """A bucket's time as an aware UTC datetime, whichever database it came back from."""
    return datetime.fromisoformat(_key(value))


def _key(moment: datetime | str) -> str:
    """One spelling for an hour whether it comes from Python or back from RETURNING (SQLite gives
    the stored text, PostgreSQL a datetime)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def _insert_hour_users(rows: set[tuple[int, datetime, str, str]]) -> dict[tuple[int, str, str], int]:
    """Users new to their issue's hour and environment, counted per (issue, hour, environment):
    what RETURNING says was inserted."""
    inserted = insert_rows(
        "issues_issuehouruser",
        ["issue_id", "hour", "environment", "user_key"],
        sorted(rows),
        conflict=["issue_id", "hour", "environment", "user_key"],
        returning=["issue_id", "hour", "environment"],
    )
    counts: dict[tuple[int, str, str], int] = defaultdict(int)
    for issue_id, hour, environment in inserted:
        counts[(issue_id, _key(hour), environment)] += 1
    return counts


def environment_filter(environments: Iterable[str], column: str = "environment") -> tuple[str, list]:
    """`AND column IN (...)` and its parameters, or nothing when no environment is selected."""
    chosen = sorted(set(environments))
    if not chosen:
        return "", []
    return f" AND {column} IN ({placeholders(len(chosen))})", chosen


def expire_buckets(now: datetime | None = None) -> int:
    now = now or timezone.now()
    deleted = 0
    for model, field, kept in (
        (IssueMinuteBucket, "minute", MINUTE_BUCKETS_KEPT),
        (IssueHourUser, "hour", USER_ROWS_KEPT),
        (IssueHourBucket, "hour", HOUR_BUCKETS_KEPT),
    ):
        count, _ = model.objects.filter(**{f"{field}__lt": now - kept}).delete()
        deleted += count
    return deleted


# --- Reading ---------------------------------------------------------------------------------------


def issue_stats(
    issue_ids: Iterable[int], now: datetime | None = None, environments: Iterable[str] = ()
) -> dict[int, dict[str, list]]:
    """Sentry's `stats` of issue objects for many issues in one query: `24h` (24 hourly points, the
    last one the current hour) and `30d` (30 daily points, the last one today, UTC), `[[ts, n], ...]`
    with ts in seconds at the start of each bucket; within `environments` when some are given."""
    chosen = sorted(set(environments))
    ids = sorted(set(issue_ids))
    now = now or timezone.now()
    this_hour = hour_of(now)
    today = this_hour.replace(hour=0)
    hours = [this_hour - timedelta(hours=n) for n in range(23, -1, -1)]
    days = [today - timedelta(days=n) for n in range(29, -1, -1)]
    hourly: dict[int, Counter] = {i: Counter() for i in ids}
    daily: dict[int, Counter] = {i: Counter() for i in ids}
    if ids:
        # The database sums the days: a page of long-lived issues would otherwise bring back up to
        # 720 hourly rows each (72,000 for 100 issues) for Python to add up.
        buckets = IssueHourBucket.objects.filter(issue_id__in=ids)
        if chosen:
            buckets = buckets.filter(environment__in=chosen)
        recent = (
            buckets.filter(hour__gte=hours[0])
            .annotate(bucket=F("hour"))
            .values("issue_id", "bucket")
            .annotate(kind=Value(0), n=Sum("times_seen"))
            .values_list("kind", "issue_id", "bucket", "n")
        )
        per_day = (
            buckets.filter(hour__gte=days[0])
            .annotate(bucket=TruncDay("hour", tzinfo=UTC))
            .values("issue_id", "bucket")
            .annotate(kind=Value(1), n=Sum("times_seen"))
            .values_list("kind", "issue_id", "bucket", "n")
        )
        for kind, issue_id, bucket, count in recent.union(per_day, all=True):
            moment = bucket_moment(bucket)
            (daily if kind else hourly)[issue_id][moment] += int(
                count
            )  # SUM of a bigint is numeric (Decimal) on PostgreSQL
    return {
        i: {
            "24h": [[int(h.timestamp()), hourly[i][h]] for h in hours],
            "30d": [[int(d.timestamp()), daily[i][d]] for d in days],
        }
        for i in ids
    }


def issue_series(
    issue_id: int, start: datetime, step: timedelta, points: int, environments: Iterable[str] = ()
) -> list[tuple[datetime, int]]:
    """Events of one issue in `points` consecutive buckets of `step` (an hour or a day) from
    `start`, summed from the hourly buckets in one query (the issue page's chart), within
    `environments` when some are given."""
    where, params = environment_filter(environments)
    rows = fetch(
        f"SELECT hour, times_seen FROM issues_issuehourbucket WHERE issue_id = %s AND hour >= %s{where}",
        [issue_id, start, *params],
    )
    counts: Counter = Counter()
    for hour, count in rows:
        index = int((bucket_moment(hour) - start) / step)
        if 0 <= index < points:
            counts[index] += count
    return [(start + step * i, counts[i]) for i in range(points)]


def _buckets_for(since: datetime) -> tuple[str, str, datetime]:
    """The bucket table, its time column and the first bucket for counting since `since`: minute
    buckets while they are still kept, whole hours (rounded out) further back."""
    if timezone.now() - since < MINUTE_BUCKETS_KEPT - timedelta(minutes=5):
        return "issues_issueminutebucket", "minute", minute_of(since)
    return "issues_issuehourbucket", "hour", hour_of(since)


def events_since(issue_ids: Iterable[int], since: datetime) -> dict[int, int]:
    """Events per issue received since `since`: minute buckets for the last MINUTE_BUCKETS_KEPT,
    hourly buckets (whole hours, rounded out) further back."""
    ids = sorted(set(issue_ids))
    if not ids:
        return {}
    table, column, start = _buckets_for(since)
    rows = fetch(
        f"SELECT issue_id, SUM(times_seen) FROM {table} WHERE issue_id IN ({placeholders(len(ids))}) "
        f"AND {column} >= %s GROUP BY issue_id",
        [*ids, start],
    )
    found = {issue_id: int(total) for issue_id, total in rows}
    return {i: found.get(i, 0) for i in ids}


def hourly_users_total(issue_id: int, since: datetime, environments: Iterable[str] = ()) -> int:
    """The sum of an issue's distinct users per hour since `since`: an upper bound of its distinct
    users over a window longer than the hour-user rows are kept."""
    where, chosen = environment_filter(environments)
    rows = fetch(
        f"SELECT COALESCE(SUM(users), 0) FROM issues_issuehourbucket WHERE issue_id = %s AND hour >= %s{where}",
        [issue_id, hour_of(since), *chosen],
    )
    return int(rows[0][0])


def users_since(
    issue_ids: Iterable[int], since: datetime, until: datetime | None = None, environments: Iterable[str] = ()
) -> dict[int, int]:
    """Distinct users per issue in the hours since `since` (rounded out to whole hours) and before
    `until` if given, within `environments` if given, exact for windows within USER_ROWS_KEPT."""
    ids = sorted(set(issue_ids))
    if not ids:
        return {}
    before, params = ("AND hour < %s", [until]) if until is not None else ("", [])
    where, chosen = environment_filter(environments)
    rows = fetch(
        "SELECT issue_id, COUNT(DISTINCT user_key) FROM issues_issuehouruser "
        f"WHERE issue_id IN ({placeholders(len(ids))}) AND hour >= %s {before}{where} GROUP BY issue_id",
        [*ids, hour_of(since), *params, *chosen],
    )
    found = {issue_id: int(total) for issue_id, total in rows}
    return {i: found.get(i, 0) for i in ids}


def hourly_counts(issue_id: int, hours: Iterable[datetime]) -> dict[datetime, int]:
    """Events of one issue in the given hours (for a baseline): hours without a bucket count 0."""
    return _hour_sums("issue_id", issue_id, hours)


def _hour_sums(column: str, value: int, hours: Iterable[datetime]) -> dict[datetime, int]:
    """Events in each of the given hours of the buckets whose `column` (an issue's or a project's
    id, both columns of the hour buckets) is `value`, over every environment; 0 for an hour without."""
    wanted = sorted({hour_of(h) for h in hours})
    if not wanted:
        return {}
    rows = fetch(
        f"SELECT hour, SUM(times_seen) FROM issues_issuehourbucket WHERE {column} = %s "
        f"AND hour IN ({placeholders(len(wanted))}) GROUP BY hour",
        [value, *wanted],
    )
    found = {_key(hour): int(n) for hour, n in rows}
    return {h: found.get(_key(h), 0) for h in wanted}


def project_events_since(project_id: int, since: datetime) -> int:
    """Events of all of a project's issues received since `since` (its issues' buckets, as
    events_since: minutes for the last MINUTE_BUCKETS_KEPT, whole hours further back)."""
    table, column, start = _buckets_for(since)
    rows = fetch(
        f"SELECT COALESCE(SUM(b.times_seen), 0) FROM {table} b JOIN issues_issue i ON i.id = b.issue_id "
        f"WHERE i.project_id = %s AND b.{column} >= %s",
        [project_id, start],
    )
    return int(rows[0][0])


def project_hourly_counts(project_id: int, hours: Iterable[datetime]) -> dict[datetime, int]:
    """Events of all of a project's issues in the given hours (a project baseline), from the hour
    buckets' own project column (index (project_id, hour))."""
    return _hour_sums("project_id", project_id, hours)


def merge_buckets(target_id: int, source_ids: list[int]) -> None:
    """Buckets of merged issues are added to the target's (before the sources are deleted)."""
    if not source_ids:
        return
    marks = placeholders(len(source_ids))
    execute(
        "INSERT INTO issues_issuehouruser (issue_id, hour, environment, user_key) "
        f"SELECT %s, hour, environment, user_key FROM issues_issuehouruser WHERE issue_id IN ({marks}) "
        "ON CONFLICT (issue_id, hour, environment, user_key) DO NOTHING",
        [target_id, *source_ids],
    )
    execute(
        "INSERT INTO issues_issuehourbucket (issue_id, project_id, hour, environment, times_seen, users) "
        "SELECT %s, (SELECT project_id FROM issues_issue WHERE id = %s), hour, environment, "
        "SUM(times_seen), MAX(users) FROM issues_issuehourbucket "
        f"WHERE issue_id IN ({marks}) GROUP BY hour, environment "
        "ON CONFLICT (issue_id, hour, environment) DO UPDATE SET "
        "times_seen = issues_issuehourbucket.times_seen + excluded.times_seen, "
        "users = CASE WHEN excluded.users > issues_issuehourbucket.users THEN excluded.users "
        "ELSE issues_issuehourbucket.users END",
        [target_id, target_id, *source_ids],
    )
    execute(
        "INSERT INTO issues_issueminutebucket (issue_id, minute, times_seen) "
        "SELECT %s, minute, SUM(times_seen) FROM issues_issueminutebucket "
        f"WHERE issue_id IN ({marks}) GROUP BY minute ON CONFLICT (issue_id, minute) DO UPDATE SET "
        "times_seen = issues_issueminutebucket.times_seen + excluded.times_seen",
        [target_id, *source_ids],
    )
    # Users of the hours whose user rows are all still kept are recounted exactly; older hours keep
    # the largest of the merged counts (a lower bound).
    execute(
        "UPDATE issues_issuehourbucket SET users = (SELECT COUNT(*) FROM issues_issuehouruser u "
        "WHERE u.issue_id = issues_issuehourbucket.issue_id AND u.hour = issues_issuehourbucket.hour "
        "AND u.environment = issues_issuehourbucket.environment) "
        "WHERE issue_id = %s AND hour >= %s",
        [target_id, hour_of(timezone.now()) - USER_ROWS_KEPT + timedelta(hours=1)],
    )
