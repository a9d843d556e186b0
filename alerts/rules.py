"""Rule matching and validation: pure Python (no Django, no database), tested on its own.

Conditions, filters and actions use Sentry's ids and field names, so rules read and written through
`/api/0/projects/{org}/{project}/rules/` look like Sentry's. What a rule is evaluated against is an
`IssueFacts` (the issue and the latest event of the batch that triggered) plus the counts of the
windows its counting conditions ask for (from the per-issue time buckets).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

FIRST_SEEN = "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"
REGRESSION = "sentry.rules.conditions.regression_event.RegressionEventCondition"
# An ignored (archived) issue becomes unresolved again: its ignore condition ended or it escalated.
REAPPEARED = "sentry.rules.conditions.reappeared_event.ReappearedEventCondition"
FREQUENCY = "sentry.rules.conditions.event_frequency.EventFrequencyCondition"
USERS = "sentry.rules.conditions.event_frequency.EventUniqueUserFrequencyCondition"
SPIKE = "lighttrace.rules.conditions.spike.SpikeCondition"
# The project's rate (all its issues) against the project's own baseline: one alert per rule and
# action interval, attached to the issue with the most events in the window.
PROJECT_SPIKE = "lighttrace.rules.conditions.project_spike.ProjectSpikeCondition"

LEVEL_FILTER = "sentry.rules.filters.level.LevelFilter"
TAG_FILTER = "sentry.rules.filters.tagged_event.TaggedEventFilter"
AGE_FILTER = "sentry.rules.filters.age_comparison.AgeComparisonFilter"
ASSIGNED_FILTER = "sentry.rules.filters.assigned_to.AssignedToFilter"
ENVIRONMENT_FILTER = "lighttrace.rules.filters.environment.EnvironmentFilter"
RELEASE_FILTER = "lighttrace.rules.filters.release.ReleaseFilter"
# Sentry's: the issue's first release is the project's latest release (by creation order).
LATEST_RELEASE_FILTER = "sentry.rules.filters.latest_release.LatestReleaseFilter"
# Sentry's: `value` is a GroupCategory number as a string.
CATEGORY_FILTER = "sentry.rules.filters.issue_category.IssueCategoryFilter"

EMAIL_ACTION = "sentry.mail.actions.NotifyEmailAction"
WEBHOOK_ACTION = "lighttrace.rules.actions.webhook.WebhookAction"
# apprise (alerts/apprise_send.py): services with a fixed vendor host, and self-hosted ones that need
# ALERT_APPRISE_SELF_HOSTED (ntfy is either: ntfy://topic goes to ntfy.sh, ntfy://HOST/topic is yours).
APPRISE_ACTION = "lighttrace.rules.actions.apprise.AppriseAction"
APPRISE_SELF_HOSTED = ("json", "jsons", "gotify", "gotifys")
APPRISE_SCHEMES = ("tgram", "pover", "pagerduty", "opsgenie", "ntfy", "ntfys", *APPRISE_SELF_HOSTED)
WEBHOOK_FORMATS = ("sentry", "slack", "discord", "teams", "mattermost", "googlechat")

COUNTING = (FREQUENCY, USERS, SPIKE, PROJECT_SPIKE)
# Sentry's GroupCategory numbers. What LightTrace stores maps onto them by the event's `type`:
# errors and message events ("default"), and security reports (CSP, HPKP, Expect-CT, Expect-Staple,
# NEL), are errors in Sentry too; user feedback sent as an event is feedback; a transaction sent as
# an event (the store endpoint keeps its type) is performance.
CATEGORIES = {"1": "error", "2": "performance", "3": "profile", "4": "cron", "5": "replay", "6": "feedback"}
CATEGORY_OF_TYPE = {"feedback": "6", "transaction": "2"}
# Sentry's intervals for frequency conditions. Users: at most a day (issues/buckets.py keeps the
# per-hour user rows that long).
INTERVALS = {
    "1m": timedelta(minutes=1),
    "5m": timedelta(minutes=5),
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
    "1w": timedelta(weeks=1),
    "30d": timedelta(days=30),
}
USER_INTERVALS = ("1m", "5m", "15m", "1h", "1d")
# Sentry's numeric levels (LevelFilter's `level` is one of these, as a string).
LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "fatal": 50}
TAG_MATCHES = ("eq", "ne", "co", "nc", "sw", "ew", "is", "ns")
AGE_UNITS = {"minute": 60, "hour": 3600, "day": 86400, "week": 604800}
BASELINE_DAYS = 7


class RuleError(ValueError):
    """A rule that cannot be used; `errors` maps field names to messages (the API's 400 body)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


@dataclass
class IssueFacts:
    level: str = "error"
    environment: str = ""
    release: str = ""
    tags: list[tuple[str, str]] = field(default_factory=list)
    first_seen: datetime | None = None
    assigned: bool = False
    is_new: bool = False
    is_regression: bool = False
    is_reappeared: bool = False
    issue_type: str = "error"
    first_release: str = ""
    latest_release: str | None = None  # the project's; None when no rule asks for it


@dataclass(frozen=True)
class Window:
    """A count a counting condition needs: `kind` events or users, over `span` back from now."""

    kind: str
    span: timedelta


@dataclass
class Match:
    trigger: str  # new, regression, frequency, users, spike
    reason: str


# --- Matching ---------------------------------------------------------------------------------------


def windows(conditions: Sequence[dict[str, Any]]) -> set[Window]:
    needed = set()
    for cond in conditions:
        if cond.get("id") in (FREQUENCY, SPIKE, PROJECT_SPIKE):
            needed.add(Window("events", INTERVALS[cond.get("interval", "1h")]))
        if cond.get("id") == PROJECT_SPIKE:
            needed.add(Window("project", INTERVALS[cond.get("interval", "1h")]))
        elif cond.get("id") == USERS:
            needed.add(Window("users", INTERVALS[cond.get("interval", "1h")]))
    return needed


def triggered(
    conditions: Sequence[dict[str, Any]],
    facts: IssueFacts,
    counts: dict[Window, int],
    baselines: dict[Window, float] | None = None,
) -> list[Match]:
    """The conditions that hold, regressions and new issues first (they bypass the interval)."""
    found = []
    for cond in conditions:
        match = _condition(cond, facts, counts, baselines or {})
        if match is not None:
            found.append(match)
    order = {"regression": 0, "reappeared": 0, "new": 1}
    return sorted(found, key=lambda m: order.get(m.trigger, 2))


def _condition(
    cond: dict[str, Any], facts: IssueFacts, counts: dict[Window, int], baselines: dict[Window, float]
) -> Match | None:
    kind = cond.get("id")
    if kind == FIRST_SEEN and facts.is_new:
        return Match("new", "A new issue was created")
    if kind == REGRESSION and facts.is_regression:
        return Match("regression", "A resolved issue came back")
    if kind == REAPPEARED and facts.is_reappeared:
        return Match("reappeared", "An ignored issue is unresolved again")
    if kind not in COUNTING:
        return None
    interval = cond.get("interval", "1h")
    span = INTERVALS[interval]
    if kind == FREQUENCY:
        seen, limit = counts.get(Window("events", span), 0), int(cond["value"])
        if seen > limit:
            return Match("frequency", f"Seen {seen} times in {interval} (more than {limit})")
    elif kind == USERS:
        users, limit = counts.get(Window("users", span), 0), int(cond["value"])
        if users > limit:
            return Match("users", f"{users} users in {interval} (more than {limit})")
    else:
        window = Window("project" if kind == PROJECT_SPIKE else "events", span)
        # A project window absent from `counts`: not this issue's to report (see services).
        if window not in counts:
            return None
        seen, usual = counts[window], baselines.get(window, 0.0)
        if is_spike(seen, usual, float(cond["value"]), int(cond.get("floor", 10))):
            whose = "the project" if kind == PROJECT_SPIKE else "the issue"
            trigger = "project_spike" if kind == PROJECT_SPIKE else "spike"
            return Match(trigger, f"{seen} events in {interval} for {whose}, more than "
                                  f"{cond['value']}x its usual {usual:.1f}")  # fmt: skip
    return None


def is_spike(current: int, baseline: float, multiplier: float, floor: int) -> bool:
    """A spike: at least `floor` events (so the first burst of a quiet issue does not fire) and
    more than `multiplier` times the baseline (the same window's mean at this time of day on the
    previous BASELINE_DAYS days)."""
    return current >= floor and current > multiplier * baseline


def baseline_hours(now: datetime, span: timedelta) -> list[datetime]:
    """The hours a spike baseline averages: the window's hours (rounded out to whole hours) at the
    same time of day on each of the previous BASELINE_DAYS days."""
    hours = max(1, -(-int(span.total_seconds()) // 3600))
    start = now.replace(minute=0, second=0, microsecond=0)
    return [start - timedelta(days=d, hours=h) for d in range(1, BASELINE_DAYS + 1) for h in range(hours)]


def baseline_from(hour_counts: dict[datetime, int], now: datetime, span: timedelta) -> float:
    """Mean events per `span` at this time of day over the previous days, from hourly counts."""
    hours = baseline_hours(now, span)
    per_hour = sum(hour_counts.get(h, 0) for h in hours) / len(hours)
    return per_hour * span.total_seconds() / 3600.0


def filters_pass(filters: Sequence[dict[str, Any]], match: str, facts: IssueFacts, now: datetime) -> bool:
    if not filters:
        return True
    results = (_filter(f, facts, now) for f in filters)
    return any(results) if match == "any" else all(results)


def _filter(flt: dict[str, Any], facts: IssueFacts, now: datetime) -> bool:
    kind = flt.get("id")
    if kind == LEVEL_FILTER:
        level, wanted = LEVELS.get(facts.level, 40), int(flt["level"])
        return {"eq": level == wanted, "lte": level <= wanted}.get(flt.get("match", "gte"), level >= wanted)
    if kind == TAG_FILTER:
        return tag_matches(facts.tags, flt["key"], flt.get("match", "eq"), flt.get("value", ""))
    if kind == ENVIRONMENT_FILTER:
        return facts.environment in flt.get("environments", [])
    if kind == RELEASE_FILTER:
        return facts.release == flt.get("release", "")
    if kind == LATEST_RELEASE_FILTER:
        return bool(facts.latest_release) and facts.first_release == facts.latest_release
    if kind == CATEGORY_FILTER:
        return category_of(facts.issue_type) == str(flt.get("value"))
    if kind == AGE_FILTER:
        if facts.first_seen is None:
            return False
        age = now - facts.first_seen
        limit = timedelta(seconds=int(flt["value"]) * AGE_UNITS[flt.get("time", "minute")])
        return age > limit if flt.get("comparison_type") == "older" else age < limit
    if kind == ASSIGNED_FILTER:
        return facts.assigned == (flt.get("targetType", "Unassigned") != "Unassigned")
    return False


def category_of(issue_type: str) -> str:
    """Sentry's GroupCategory number of an issue of this event type."""
    return CATEGORY_OF_TYPE.get(issue_type, "1")


def tag_matches(tags: Sequence[tuple[str, str]], key: str, match: str, value: str) -> bool:
    values = [v for k, v in tags if k == key]
    if match == "is":
        return bool(values)
    if match == "ns":
        return not values
    if match in ("ne", "nc"):
        positive = "eq" if match == "ne" else "co"
        return not tag_matches(tags, key, positive, value)
    test = {
        "eq": lambda v: v == value,
        "co": lambda v: value in v,
        "sw": lambda v: v.startswith(value),
        "ew": lambda v: v.endswith(value),
    }[match]
    return any(test(v) for v in values)


# --- Validation -------------------------------------------------------------------------------------


def validate_rule(data: dict[str, Any]) -> dict[str, Any]:
    """A rule as sent by the API or built by the page, checked and normalized; RuleError if not."""
    errors: dict[str, list[str]] = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = ["This field is required."]
    elif len(name) > 256:
        errors["name"] = ["At most 256 characters."]
    frequency = data.get("frequency", 30)
    if not isinstance(frequency, int) or isinstance(frequency, bool) or not 1 <= frequency <= 43200:
        errors["frequency"] = ["A whole number of minutes from 1 to 43200."]
    match = data.get("filterMatch", "all")
    if match not in ("all", "any"):
        errors["filterMatch"] = ["One of: all, any."]
    conditions = _checked(data.get("conditions"), _check_condition, "conditions", errors)
    filters = _checked(data.get("filters", []), _check_filter, "filters", errors)
    actions = _checked(data.get("actions"), _check_action, "actions", errors)
    if not errors and not conditions:
        errors["conditions"] = ["At least one trigger is required."]
    if not errors and not actions:
        errors["actions"] = ["At least one action is required."]
    if errors:
        raise RuleError(errors)
    return {
        "name": name,
        "frequency": frequency,
        "filterMatch": match,
        "conditions": conditions,
        "filters": filters,
        "actions": actions,
        "environment": str(data.get("environment") or ""),
    }


def _checked(items: Any, check, name: str, errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        errors[name] = ["A list is required."]
        return []
    problems = []
    for n, item in enumerate(items):
        problem = check(item) if isinstance(item, dict) else "must be an object"
        if problem:
            problems.append(f"{name[:-1]} {n + 1}: {problem}")
    if problems:
        errors[name] = problems
    return [dict(i) for i in items if isinstance(i, dict)]


def _positive_int(item: dict[str, Any], key: str) -> bool:
    try:
        return int(item.get(key)) >= 0  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _check_condition(item: dict[str, Any]) -> str | None:
    kind = item.get("id")
    if kind in (FIRST_SEEN, REGRESSION, REAPPEARED):
        return None
    if kind not in COUNTING:
        return f"unknown trigger {kind!r}"
    allowed = USER_INTERVALS if kind == USERS else tuple(INTERVALS)
    if item.get("interval", "1h") not in allowed:
        return f"interval must be one of {', '.join(allowed)}"
    if kind in (SPIKE, PROJECT_SPIKE):
        try:
            if float(item.get("value")) <= 1:  # type: ignore[arg-type]
                return "value (the multiplier) must be above 1"
        except (TypeError, ValueError):
            return "value (the multiplier) must be a number"
        if "floor" in item and not _positive_int(item, "floor"):
            return "floor must be a whole number"
        return None
    if not _positive_int(item, "value"):
        return "value must be a whole number"
    return None


def _check_filter(item: dict[str, Any]) -> str | None:
    kind = item.get("id")
    if kind == LEVEL_FILTER:
        if str(item.get("level")) not in {str(v) for v in LEVELS.values()}:
            return "level must be one of 10, 20, 30, 40, 50"
        return None if item.get("match", "gte") in ("gte", "eq", "lte") else "match must be gte, eq or lte"
    if kind == TAG_FILTER:
        if not str(item.get("key") or ""):
            return "key is required"
        return None if item.get("match", "eq") in TAG_MATCHES else f"match must be one of {TAG_MATCHES}"
    if kind == ENVIRONMENT_FILTER:
        envs = item.get("environments")
        ok = isinstance(envs, list) and envs and all(isinstance(e, str) for e in envs)
        return None if ok else "environments must be a non-empty list of names"
    if kind == RELEASE_FILTER:
        return None if str(item.get("release") or "") else "release is required"
    if kind == LATEST_RELEASE_FILTER:
        return None
    if kind == CATEGORY_FILTER:
        known = ", ".join(f"{k} ({v})" for k, v in CATEGORIES.items())
        return None if str(item.get("value")) in CATEGORIES else f"value must be one of {known}"
    if kind == AGE_FILTER:
        if item.get("comparison_type") not in ("older", "newer") or item.get("time") not in AGE_UNITS:
            return "comparison_type must be older or newer, time one of minute, hour, day, week"
        return None if _positive_int(item, "value") else "value must be a whole number"
    if kind == ASSIGNED_FILTER:
        return None if item.get("targetType") in ("Unassigned", "Member", "Team") else "bad targetType"
    return f"unknown filter {kind!r}"


def _check_action(item: dict[str, Any]) -> str | None:
    kind = item.get("id")
    if kind == EMAIL_ACTION:
        target = item.get("targetType")
        if target in ("Team", "IssueOwners"):
            return None
        if target == "Member":
            return None if str(item.get("targetIdentifier", "")).isdigit() else "targetIdentifier: a user id"
        return "targetType must be Team, IssueOwners or Member"
    if kind == WEBHOOK_ACTION:
        url = str(item.get("url") or "")
        if not re.match(r"^https?://[^\s/]+", url) or len(url) > 2000:
            return "url must be an http or https URL"
        if item.get("format", "sentry") not in WEBHOOK_FORMATS:
            return f"format must be one of {', '.join(WEBHOOK_FORMATS)}"
        return None
    if kind == APPRISE_ACTION:
        url = str(item.get("url") or "")
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if scheme not in APPRISE_SCHEMES or len(url) > 2000:
            return f"url must be an apprise URL of one of: {', '.join(APPRISE_SCHEMES)}"
        return None
    return f"unknown action {kind!r}"
