"""Sentry's usage statistics endpoints over the outcome counts: `stats_v2` (what Grafana's Sentry
data source and Sentry's usage page ask for) and the older per-project `stats`.

Outcomes are counted per UTC hour, Sentry's finest resolution for outcomes: `interval` is rounded up to
whole hours (Sentry's documented minimum, 1h) and must divide a day, and the window is widened to whole
intervals, as Sentry does.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.db.models import Sum
from django.db.models.functions import TruncDay
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import ParseError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from projects.access import ORG_READ, PROJECT_READ, TokenScopes, get_organization, get_project

from .models import Outcome

GROUP_FIELDS = {"outcome": "outcome", "category": "category", "project": "project_id", "reason": "reason"}
FIELDS = ("sum(quantity)", "sum(times_seen)")
HOUR, DAY = 3600, 86400
MAX_DAYS = 400
MAX_POINTS = 1000  # Sentry's cap on the buckets of one answer
_PERIOD = re.compile(r"^(\d+)([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def _duration(text: str, name: str) -> timedelta:
    match = _PERIOD.match(text or "")
    if not match:
        raise ParseError(f"{name} must look like 1h, 14d or 2w")
    return timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])


def time_window(params, default_period: str = "14d") -> tuple[datetime, datetime]:
    """[start, end) from `statsPeriod` or `start` and `end`, as Sentry reads them (not yet aligned)."""
    now = datetime.now(UTC)
    if params.get("start") or params.get("end"):
        start, end = (parse_datetime(params.get(k) or "") for k in ("start", "end"))
        if start is None or end is None:
            raise ParseError("start and end must both be ISO 8601 dates")
        start, end = (d if d.tzinfo else d.replace(tzinfo=UTC) for d in (start, end))
    else:
        end = now
        start = now - _duration(params.get("statsPeriod") or default_period, "statsPeriod")
    start = min(start, now)
    if end <= start or end - start > timedelta(days=MAX_DAYS):
        raise ParseError(f"the period must be positive and at most {MAX_DAYS} days")
    return start, end


def interval_seconds(text: str | None, start: datetime, end: datetime) -> int:
    """Sentry's rules: whole hours (a smaller interval is rounded up to 1h), at most a day and a
    divisor of it. Without one: 1h (Sentry's default), or 1d when hours would exceed MAX_POINTS."""
    if not text:
        return HOUR if (end - start).total_seconds() / HOUR <= MAX_POINTS else DAY
    seconds = _duration(text, "interval").total_seconds()
    if seconds <= 0:
        raise ParseError("Interval cannot result in a zero duration.")
    seconds = HOUR * math.ceil(seconds / HOUR)
    if seconds > DAY:
        raise ParseError("The interval has to be less than one day.")
    if DAY % seconds:
        raise ParseError("The interval should divide one day without a remainder.")
    return int(seconds)


def align(start: datetime, end: datetime, step: int) -> tuple[datetime, datetime]:
    """The window widened to whole intervals of `step` seconds since the epoch (UTC)."""
    first = math.floor(start.timestamp() / step) * step
    last = math.ceil(end.timestamp() / step) * step
    if (last - first) / step > MAX_POINTS:
        raise ParseError(
            "Your interval and date range would create too many results. "
            "Use a larger interval, or a smaller date range."
        )
    return datetime.fromtimestamp(first, UTC), datetime.fromtimestamp(last, UTC)


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
        step = interval_seconds(params.get("interval"), start, end)
        start, end = align(start, end, step)
        outcomes = Outcome.objects.filter(organization=org, hour__gte=start, hour__lt=end)
        for name in ("category", "outcome", "reason"):
            if params.getlist(name):
                outcomes = outcomes.filter(**{f"{name}__in": params.getlist(name)})
        projects = [p for p in params.getlist("project") if p.isdigit()]  # -1 means all projects
        if projects:
            outcomes = outcomes.filter(project_id__in=projects)
        length = int((end - start).total_seconds()) // step
        series = _series(outcomes, [GROUP_FIELDS[g] for g in group_by], start, step, length)
        groups = [
            {
                "by": dict(zip(group_by, key, strict=True)),
                "totals": {f: sum(values) for f in fields},
                "series": {f: values for f in fields},
            }
            for key, values in sorted(series.items(), key=lambda item: [str(v) for v in item[0]])
        ]
        intervals = [_iso(start + timedelta(seconds=step * n)) for n in range(length)]
        return Response({"start": _iso(start), "end": _iso(end), "intervals": intervals, "groups": groups})


def _series(outcomes, columns: list[str], start: datetime, step: int, length: int) -> dict[tuple, list[int]]:
    """One query: the quantities summed per group and hour (per day for daily intervals, summed by the
    database), placed into interval buckets."""
    series: dict[tuple, list[int]] = defaultdict(lambda: [0] * length)
    rows = outcomes.annotate(at=TruncDay("hour", tzinfo=UTC)) if step == DAY else outcomes
    time_column = "at" if step == DAY else "hour"
    for row in rows.values(*columns, time_column).annotate(total=Sum("quantity")).order_by():
        key = tuple(row[c] for c in columns)
        index = int((row[time_column] - start).total_seconds()) // step
        series[key][index] += row["total"]
    return series


# The old per-project stat names and the outcomes they count (error events only).
PROJECT_STATS = {
    "received": ("accepted", "rate_limited", "invalid"),
    "rejected": ("rate_limited",),
    "blacklisted": ("invalid",),
    "generated": ("accepted",),
}
RESOLUTIONS = {"10s": HOUR, "1h": HOUR, "1d": DAY}  # no 10-second counts: 10s gets hours


class ProjectStatsView(APIView):
    """`?stat=received|rejected|blacklisted|generated&since=&until=&resolution=1h|1d` →
    `[[unix time, count], ...]`, one pair per bucket from the one holding `since` to the one holding
    `until` (Sentry's tsdb series). Without `resolution`: hours for windows starting within the last
    7 days, else days (Sentry's optimal rollup)."""

    permission_classes = [TokenScopes]
    token_scopes = {"GET": PROJECT_READ}

    def get(self, request: Request, org_slug: str, project_slug: str) -> Response:
        project = get_project(request.user, org_slug, project_slug)
        stat = request.query_params.get("stat", "received")
        if stat not in PROJECT_STATS:
            raise ParseError(f"stat must be one of {', '.join(PROJECT_STATS)}")
        start, end = self._window(request)
        step = self._resolution(request, start)
        first, last = align(start, end + timedelta(seconds=1), step)
        outcomes = Outcome.objects.filter(
            project=project, category="error", outcome__in=PROJECT_STATS[stat], hour__gte=first, hour__lt=last
        )
        series = _series(outcomes, [], first, step, int((last - first).total_seconds()) // step)
        counts = series.get((), [0] * (int((last - first).total_seconds()) // step))
        return Response([[int(first.timestamp()) + step * n, count] for n, count in enumerate(counts)])

    def _resolution(self, request: Request, start: datetime) -> int:
        resolution = request.query_params.get("resolution")
        if resolution is None:
            return HOUR if datetime.now(UTC) - start <= timedelta(days=7) else DAY
        if resolution not in RESOLUTIONS:
            raise ParseError(f"resolution must be one of {', '.join(RESOLUTIONS)}")
        return RESOLUTIONS[resolution]

    def _window(self, request: Request) -> tuple[datetime, datetime]:
        params = request.query_params
        try:
            since = float(params["since"]) if params.get("since") else None
            until = float(params["until"]) if params.get("until") else None
        except ValueError as exc:
            raise ParseError("since and until are unix timestamps") from exc
        end = datetime.fromtimestamp(until, UTC) if until is not None else datetime.now(UTC)
        start = datetime.fromtimestamp(since, UTC) if since is not None else end - timedelta(days=1)
        if end < start or end - start > timedelta(days=MAX_DAYS):
            raise ParseError(f"the period must be positive and at most {MAX_DAYS} days")
        return start, end
