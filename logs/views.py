"""The logs pages, of a project and of an organization: search bar, time range, level facets,
histogram, rows that expand to every attribute, and a live tail (static/lighttrace/logs-tail.js polls
the API for records newer than the newest shown)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from projects.access import get_organization, get_project, visible_projects

from .query.parser import LEVELS, SearchError
from .services import build_query, facets, search_page, serialize_record, start_cursor

PAGE_SIZE = 100
# Rows the live tail keeps on the page: the oldest go as new ones arrive (a bounded DOM).
TAIL_ROWS = 500
PERIODS = ("15m", "1h", "24h", "7d", "14d", "30d")


@login_required
def project_logs(request: HttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    project = get_project(request.user, org_slug, project_slug)
    context = {
        "project": project,
        "title": f"{project.organization.slug} / {project.slug}",
        "show_project": False,
        "org_slug": project.organization.slug,
    }
    context["logs_url"] = reverse("project-logs", args=[project.organization.slug, project.slug])
    context["api_url"] = f"/api/0/projects/{project.organization.slug}/{project.slug}/logs/"
    return _logs_page(request, {project.id: project.slug}, context)


@login_required
def organization_logs(request: HttpRequest, org_slug: str) -> HttpResponse:
    organization = get_organization(request.user, org_slug)
    projects = visible_projects(request.user).filter(organization=organization)
    context = {
        "project": None,
        "title": organization.slug,
        "show_project": True,
        "org_slug": organization.slug,
    }
    context["logs_url"] = reverse("organization-logs", args=[organization.slug])
    context["api_url"] = f"/api/0/organizations/{organization.slug}/logs/"
    return _logs_page(request, {p.id: p.slug for p in projects}, context)


def _logs_page(request: HttpRequest, slugs: dict[int, str], context: dict) -> HttpResponse:
    text = request.GET.get("query", "")
    period = request.GET.get("statsPeriod") or "24h"
    context.update(query=text, period=period, periods=PERIODS, search_error="")
    try:
        query = build_query(slugs, text, {"statsPeriod": period})
        page = search_page(query, request.GET.get("cursor"), PAGE_SIZE)
        side = facets(query)
    except SearchError as exc:
        context["search_error"] = str(exc)
        return render(request, "logs/project_logs.html", context)
    context.update(
        records=[serialize_record(r, slugs) for r in page.records],
        levels=[(level, side["levels"].get(level, 0)) for level in LEVELS],
        histogram=_bars(side["histogram"]),
        bucket_seconds=side["bucket_seconds"],
        # The live tail follows from the newest record shown, on the first page only.
        tail_cursor=None if request.GET.get("cursor") else page.tail_cursor or start_cursor(query.end),
        tail_limit=TAIL_ROWS,
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
