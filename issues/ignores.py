"""What ends an ignore, and when it has ended: the rules issues/lifecycle.py applies (it makes the
changes; this module parses requests and reads counters and time buckets, it writes nothing).

- For N minutes (`ignoreDuration`): ends when the time is up.
- Until N more events / users (`ignoreCount` / `ignoreUserCount`): on the issue's own counters,
  against their values when it was ignored.
- Until N events / users within M minutes (`ignoreWindow` / `ignoreUserWindow`, Sentry's rates):
  ends when the issue's time buckets hold at least N events (or distinct users) in the last M
  minutes, whole minutes for windows up to 3 hours, whole hours (rounded out) beyond; user windows
  are at most 24 hours (distinct users per hour are kept 25 hours).
- Until it escalates (`substatus: archived_until_escalating`): ends when the issue gets more events
  in the last hour than max(ESCALATION_FLOOR, ESCALATION_FACTOR x its average hourly count over the
  7 days before that hour), read from its minute and hourly buckets, never from the events table.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.sql import fetch, placeholders

from .access import parse_id
from .buckets import events_since, hour_of, users_since

# "Ignore for N minutes" / "until N more events or users": a year and a billion are bounds, not needs.
MAX_IGNORE_MINUTES = 366 * 24 * 60
MAX_IGNORE_COUNT = 1_000_000_000
MAX_WINDOW_MINUTES = 7 * 24 * 60
MAX_USER_WINDOW_MINUTES = 24 * 60
ESCALATION_FLOOR = 10
ESCALATION_FACTOR = 5
ESCALATION_BASELINE = timedelta(days=7)


class LifecycleError(ValueError):
    """A change that cannot be made as asked: a 400 with this text in the API, a message on the page."""


@dataclass(frozen=True)
class IgnoreCondition:
    """What ends an ignore; all None (and not `until_escalating`) means forever."""

    minutes: int | None = None
    count: int | None = None
    user_count: int | None = None
    window: int | None = None
    user_window: int | None = None
    until_escalating: bool = False

    @property
    def forever(self) -> bool:
        return not self.until_escalating and not self.needs_snooze

    @property
    def needs_snooze(self) -> bool:
        return self.minutes is not None or self.count is not None or self.user_count is not None

    def details(self) -> dict:
        """Sentry's statusDetails names (empty until escalating, as in Sentry)."""
        named = {
            "ignoreDuration": self.minutes,
            "ignoreCount": self.count,
            "ignoreWindow": self.window,
            "ignoreUserCount": self.user_count,
            "ignoreUserWindow": self.user_window,
        }
        return {k: v for k, v in named.items() if v is not None}


def parse_ignore_condition(details: dict, substatus: object = None) -> IgnoreCondition:
    """Sentry's statusDetails for an ignore, or its `substatus: archived_until_escalating`."""
    if any(details.get(k) for k in ("inRelease", "inNextRelease", "inCommit", "inUpcomingRelease")):
        raise LifecycleError(
            "inRelease, inNextRelease, inUpcomingRelease and inCommit go with status resolved"
        )
    condition = IgnoreCondition(
        minutes=_positive(details, "ignoreDuration", MAX_IGNORE_MINUTES),
        count=_positive(details, "ignoreCount", MAX_IGNORE_COUNT),
        user_count=_positive(details, "ignoreUserCount", MAX_IGNORE_COUNT),
        window=_positive(details, "ignoreWindow", MAX_WINDOW_MINUTES),
        user_window=_positive(details, "ignoreUserWindow", MAX_USER_WINDOW_MINUTES),
    )
    if condition.window and not condition.count:
        raise LifecycleError("ignoreWindow needs ignoreCount (N events within the window)")
    if condition.user_window and not condition.user_count:
        raise LifecycleError("ignoreUserWindow needs ignoreUserCount (N users within the window)")
    if substatus in (None, "", "archived_forever", "archived_until_condition_met"):
        return condition
    if substatus != "archived_until_escalating":
        raise LifecycleError(f"unknown substatus {substatus!r} for status ignored")
    if condition.needs_snooze:
        raise LifecycleError("archived_until_escalating takes no ignore condition in statusDetails")
    return IgnoreCondition(until_escalating=True)


def _positive(details: dict, key: str, limit: int) -> int | None:
    value = details.get(key)
    if value in (None, "", 0):
        return None
    number = parse_id(value)
    if number is None:
        raise LifecycleError(f"{key} must be a positive whole number")
    if not 0 < number <= limit:
        raise LifecycleError(f"{key} must be between 1 and {limit}")
    return number


@dataclass(frozen=True)
class SnoozeState:
    """One ignored issue's condition with the counters it is judged on."""

    issue_id: int
    until: datetime | None
    count: int | None
    user_count: int | None
    window: int | None
    user_window: int | None
    seen_gain: int
    users_gain: int


def outgrown(snoozes: list[SnoozeState], now: datetime) -> list[int]:
    """Issues whose "N more events/users" (or "N within M minutes") has been reached. Windowed
    conditions read the buckets: one query per distinct window among them, not per issue."""
    by_window: dict[tuple[str, int], list[int]] = defaultdict(list)
    done = set()
    for s in snoozes:
        if s.count and not s.window and s.seen_gain >= s.count:
            done.add(s.issue_id)
        if s.user_count and not s.user_window and s.users_gain >= s.user_count:
            done.add(s.issue_id)
        if s.count and s.window:
            by_window[("events", s.window)].append(s.issue_id)
        if s.user_count and s.user_window:
            by_window[("users", s.user_window)].append(s.issue_id)
    wanted = {s.issue_id: s for s in snoozes}
    for (kind, minutes), ids in sorted(by_window.items()):
        count_since = events_since if kind == "events" else users_since
        found = count_since(ids, now - timedelta(minutes=minutes))
        for issue_id in ids:
            limit = wanted[issue_id].count if kind == "events" else wanted[issue_id].user_count
            if found[issue_id] >= (limit or 0):
                done.add(issue_id)
    return sorted(done)


def escalating(issue_ids: list[int], now: datetime) -> list[int]:
    """Issues among `issue_ids` whose last hour is well above their own recent rate (the rule in
    this module's docstring): two grouped queries over the buckets for all of them."""
    if not issue_ids:
        return []
    last_hour = events_since(issue_ids, now - timedelta(hours=1))
    end = hour_of(now - timedelta(hours=1))
    rows = fetch(
        "SELECT issue_id, SUM(times_seen) FROM issues_issuehourbucket "
        f"WHERE issue_id IN ({placeholders(len(issue_ids))}) AND hour >= %s AND hour < %s GROUP BY issue_id",
        [*sorted(issue_ids), end - ESCALATION_BASELINE, end],
    )
    hours = ESCALATION_BASELINE / timedelta(hours=1)
    average = {issue_id: int(total) / hours for issue_id, total in rows}
    return sorted(
        i for i in issue_ids if last_hour[i] > max(ESCALATION_FLOOR, ESCALATION_FACTOR * average.get(i, 0.0))
    )
