"""The logs page of a project: search bar, time range, level facets, histogram, expandable rows."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from projects.access import get_project

from .query.parser import LEVELS, SearchError
from .services import build_query, facets, search_page, serialize_record

PAGE_SIZE = 100
PERIODS = ("15m", "1h", "24h", "7d", "14d", "30d")


@login_required
def project_logs(request: HttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    project = get_project(request.user, org_slug, project_slug)
    text = request.GET.get("query", "")
    period = request.GET.get("statsPeriod") or "24h"
    context: dict = {
        "project": project,
        "query": text,
        "period": period,
        "periods": PERIODS,
        "search_error": "",
    }
    try:
        query = build_query([project.id], text, {"statsPeriod": period})
        page = search_page(query, request.GET.get("cursor"), PAGE_SIZE)
        side = facets(query)
    except SearchError as exc:
        context["search_error"] = str(exc)
        return render(request, "logs/project_logs.html", context)
    records = [serialize_record(r, {project.id: project.slug}) for r in page.records]
    context.update(
        records=records,
        levels=[(level, side["levels"].get(level, 0)) for level in LEVELS],
        histogram=_bars(side["histogram"]),
        bucket_seconds=side["bucket_seconds"],
        next_url=f"?{urlencode({'query': text, 'statsPeriod': period, 'cursor': page.next_cursor})}"
        if page.next_cursor
        else None,
    )
    return render(request, "logs/project_logs.html", context)


def _bars(histogram: list) -> list[dict]:
    top = max((count for _, count in histogram), default=0) or 1
    return [
        {"start": start, "count": count, "height": max(2, round(60 * count / top))}
        for start, count in histogram
    ]
