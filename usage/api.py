"""Sentry's usage statistics endpoints over the outcome counts: `stats_v2` (what Grafana's Sentry
data source and Sentry's usage page ask for) and the older per-project `stats`.

Outcomes are counted per day, so every interval here is one day (or a multiple): a finer `interval`
or `resolution` is answered with daily buckets rather than refused, so dashboards keep working.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta

from django.db.models import Sum
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import ParseError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from projects.access import ORG_READ, PROJECT_READ, TokenScopes, get_organization, get_project

from .models import Outcome

GROUP_FIELDS = {"outcome": "outcome", "category": "category", "project": "project_id", "reason": "reason"}
FIELDS = ("sum(quantity)", "sum(times_seen)")
MAX_DAYS = 400
_PERIOD = re.compile(r"^(\d+)([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def _duration(text: str, name: str) -> timedelta:
    match = _PERIOD.match(text or "")
    if not match:
        raise ParseError(f"{name} must look like 24h, 14d or 2w")
    return timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])


def _day_start(moment: datetime) -> datetime:
    return datetime.combine(moment.astimezone(UTC).date(), time(), tzinfo=UTC)


def time_window(params, default_period: str = "14d") -> tuple[datetime, datetime]:
    """[start, end) in whole UTC days from `statsPeriod` or `start` and `end`, as Sentry reads them."""
    now = datetime.now(UTC)
    if params.get("start") or params.get("end"):
        start, end = (parse_datetime(params.get(k) or "") for k in ("start", "end"))
        if start is None or end is None:
            raise ParseError("start and end must both be ISO 8601 dates")
        start, end = (d if d.tzinfo else d.replace(tzinfo=UTC) for d in (start, end))
    else:
        end = now
        start = now - _duration(params.get("statsPeriod") or default_period, "statsPeriod")
    first, last = _day_start(start), _day_start(end) + timedelta(days=1)
    if last <= first or (last - first).days > MAX_DAYS:
        raise ParseError(f"the period must be positive and at most {MAX_DAYS} days")
    return first, last


def _interval_days(params) -> int:
    interval = params.get("interval")
    return max(1, _duration(interval, "interval").days) if interval else 1


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class OrganizationStatsV2View(APIView):
    permission_classes = [TokenScopes]
    token_scopes = {"GET": ORG_READ}

    def get(self, request: Request, org_slug: str) -> Response:
        org = get_organization(request.user, org_slug)
        params = request.query_params
        fields = params.getlist("field") or ["sum(quantity)"]
        if any(f not in FIELDS for f in fields):
            raise ParseError(f"field must be one of {', '.join(FIELDS)}")
        group_by = params.getlist("groupBy")
        if any(g not in GROUP_FIELDS for g in group_by):
            raise ParseError(f"groupBy must be among {', '.join(GROUP_FIELDS)}")
        start, end = time_window(params)
        step = _interval_days(params)
        outcomes = Outcome.objects.filter(organization=org, day__gte=start.date(), day__lt=end.date())
        for name in ("category", "outcome", "reason"):
            if params.getlist(name):
                outcomes = outcomes.filter(**{f"{name}__in": params.getlist(name)})
        projects = [p for p in params.getlist("project") if p.isdigit()]  # -1 means all projects
        if projects:
            outcomes = outcomes.filter(project_id__in=projects)
        intervals = [start + timedelta(days=d) for d in range(0, (end - start).days, step)]
        series = _series(outcomes, [GROUP_FIELDS[g] for g in group_by], start, step, len(intervals))
        groups = [
            {
                "by": dict(zip(group_by, key, strict=True)),
                "totals": {f: sum(values) for f in fields},
                "series": {f: values for f in fields},
            }
            for key, values in sorted(series.items(), key=lambda item: [str(v) for v in item[0]])
        ]
        return Response(
            {
                "start": _iso(start),
                "end": _iso(end),
                "intervals": [_iso(i) for i in intervals],
                "groups": groups,
            }
        )


def _series(outcomes, columns: list[str], start: datetime, step: int, length: int) -> dict[tuple, list[int]]:
    """One query: the quantities summed per group and day, placed into interval buckets."""
    series: dict[tuple, list[int]] = defaultdict(lambda: [0] * length)
    for row in outcomes.values(*columns, "day").annotate(total=Sum("quantity")).order_by():
        key = tuple(row[c] for c in columns)
        series[key][(row["day"] - start.date()).days // step] += row["total"]
    return series


# The old per-project stat names and the outcomes they count (error events only).
PROJECT_STATS = {
    "received": ("accepted", "rate_limited", "invalid"),
    "rejected": ("rate_limited",),
    "blacklisted": ("invalid",),
    "generated": ("accepted",),
}


class ProjectStatsView(APIView):
    """`?stat=received|rejected|blacklisted|generated&since=&until=` → `[[unix time, count], ...]`."""

    permission_classes = [TokenScopes]
    token_scopes = {"GET": PROJECT_READ}

    def get(self, request: Request, org_slug: str, project_slug: str) -> Response:
        project = get_project(request.user, org_slug, project_slug)
        stat = request.query_params.get("stat", "received")
        if stat not in PROJECT_STATS:
            raise ParseError(f"stat must be one of {', '.join(PROJECT_STATS)}")
        start, end = self._window(request)
        counts = dict(
            Outcome.objects.filter(
                project=project, category="error", outcome__in=PROJECT_STATS[stat],
                day__gte=start.date(), day__lt=end.date(),
            )
            .values("day").annotate(total=Sum("quantity")).values_list("day", "total")
        )  # fmt: skip
        days = [start + timedelta(days=d) for d in range((end - start).days)]
        return Response([[int(day.timestamp()), counts.get(day.date(), 0)] for day in days])

    def _window(self, request: Request) -> tuple[datetime, datetime]:
        params = request.query_params
        try:
            since = float(params["since"]) if params.get("since") else None
            until = float(params["until"]) if params.get("until") else None
        except ValueError as exc:
            raise ParseError("since and until are unix timestamps") from exc
        if since is None and until is None:
            return time_window({"statsPeriod": "24h"})
        end = datetime.fromtimestamp(until, UTC) if until is not None else datetime.now(UTC)
        start = datetime.fromtimestamp(since, UTC) if since is not None else end - timedelta(days=1)
        return time_window({"start": start.isoformat(), "end": end.isoformat()})
