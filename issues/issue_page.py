"""What the issue page shows above and beside its event: counts in the chosen range and in total,
the events chart, the tag sidebar, environments, and links to the first and last release.

Every figure comes from the per-issue buckets, the issue's own counters and the tag counts, never
from counting events, so the page costs the same at 10 or 10 million events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from releases.models import ReleaseProject

from . import buckets
from .buckets import USER_ROWS_KEPT, hour_of, issue_series
from .chart import bar_chart
from .models import Issue
from .tag_summary import tag_keys, users_last_seen_since

SIDEBAR_VALUES = 5


@dataclass(frozen=True)
class Period:
    step: timedelta
    points: int
    words: str

    @property
    def hourly(self) -> bool:
        return self.step == timedelta(hours=1)


# The page's range picker: 24 hours by hour, the longer ranges by day.
PERIODS = {
    "24h": Period(timedelta(hours=1), 24, "the last 24 hours"),
    "7d": Period(timedelta(days=1), 7, "the last 7 days"),
    "14d": Period(timedelta(days=1), 14, "the last 14 days"),
    "30d": Period(timedelta(days=1), 30, "the last 30 days"),
}
DEFAULT_PERIOD = "14d"


def period_start(period: Period, now: datetime) -> datetime:
    """The first bucket: the current hour or day is the last one, as in issue `stats`."""
    last = hour_of(now) if period.hourly else hour_of(now).replace(hour=0)
    return last - period.step * (period.points - 1)


def search_query(key: str, value: str) -> str:
    """`key:"value"` for the issue search, quotes and backslashes escaped inside the value."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{key}:"{escaped}"'


def range_context(
    issue: Issue, period_name: str | None, environment: str = "", now: datetime | None = None
) -> dict:
    """Events and users in the chosen range, in one environment if one is chosen, with the chart of
    it (two queries). Users in an environment over more than the hours whose user rows are kept are
    the sum of each hour's distinct users, at most the issue's total: an upper bound, said so."""
    name = period_name if period_name in PERIODS else DEFAULT_PERIOD
    period = PERIODS[name]
    now = now or timezone.now()
    start = period_start(period, now)
    environment = environment if 0 < len(environment) <= 64 else ""
    chosen = [environment] if environment else []
    chart = bar_chart(
        issue_series(issue.pk, start, period.step, period.points, chosen), period.hourly, period.words
    )
    users_exact = True
    if not chosen:
        users = users_last_seen_since(issue.pk, start)
    elif now - start <= USER_ROWS_KEPT:
        users = buckets.users_since([issue.pk], start, environments=chosen)[issue.pk]
    else:
        users, users_exact = min(buckets.hourly_users_total(issue.pk, start, chosen), issue.user_count), False
    return {
        "period": name,
        "periods": list(PERIODS),
        "chosen_environment": environment,
        "range_query": urlencode({"period": name, **({"environment": environment} if environment else {})}),
        "chart": chart,
        "events_in_range": chart.total,
        "users_in_range": users,
        "users_in_range_exact": users_exact,
    }


def sidebar_context(issue: Issue) -> dict:
    """Tag keys with their top values, each with its share of the key's events and a link to the
    project's issues carrying it; the environments the issue was seen in (two queries)."""
    org, project = issue.project.organization.slug, issue.project.slug
    list_url = reverse("issue-list", args=[org, project])
    keys: list[dict] = []
    for tag_key in tag_keys(issue.pk, top=SIDEBAR_VALUES):
        values = [
            {
                "value": tag.value,
                "count": tag.times_seen,
                "share": _share(tag.times_seen, tag_key.total),
                "url": f"{list_url}?{urlencode({'query': search_query(tag_key.key, tag.value)})}",
            }
            for tag in tag_key.top
        ]
        keys.append(
            {
                "key": tag_key.key,
                "label": tag_key.label,
                "unique": tag_key.unique,
                "values": values,
                "url": _tag_page(org, project, issue.pk, tag_key.key),
            }
        )
    environments: list[dict] = next((k["values"] for k in keys if k["key"] == "environment"), [])
    return {"tag_keys": keys, "environments": [v["value"] for v in environments]}


def _tag_page(org: str, project: str, issue_id: int, key: str) -> str | None:
    """The key's values page; none for a key no URL path can carry (SDKs may send `a/b` or "")."""
    try:
        return reverse("issue-tag-values", args=[org, project, issue_id, key])
    except NoReverseMatch:
        return None


def release_links(issue: Issue) -> dict:
    """URLs of the release pages of the first and last release, where the project has them."""
    versions = {v for v in (issue.first_release, issue.last_release) if v}
    known = set(
        ReleaseProject.objects.filter(project=issue.project, release__version__in=versions).values_list(
            "release__version", flat=True
        )
        if versions
        else ()
    )
    org, project = issue.project.organization.slug, issue.project.slug

    def url(version: str) -> str | None:
        return reverse("release-detail", args=[org, project, version]) if version in known else None

    return {"first_release_url": url(issue.first_release), "last_release_url": url(issue.last_release)}


def _share(count: int, total: int) -> int:
    """Percent of the key's events, rounded; at least 1 for a value that was seen."""
    if total <= 0 or count <= 0:
        return 0
    return max(1, round(100 * count / total))
