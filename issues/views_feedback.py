"""The user feedback pages: a project's (every report, about an error or not) and an issue's tab,
plus what the issue page shows of it. Pages are an offset with one row more than the page, like
the issue's other tabs; what people wrote is untrusted and only ever autoescaped."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from feedback.models import UserReport

from .access import get_project
from .models import Issue
from .views_issue_tabs import _issue, _page_number, _window

ON_ISSUE_PAGE = 5


def issue_page_feedback(issue: Issue) -> dict:
    """The issue page's box: the newest reports and how many there are (two queries)."""
    reports = UserReport.objects.filter(issue=issue)
    return {
        "user_reports": list(reports.order_by("-date_added", "-id")[:ON_ISSUE_PAGE]),
        "user_report_count": reports.count(),
    }


@login_required
def issue_feedback(request: HttpRequest, org_slug: str, project_slug: str, issue_id: int) -> HttpResponse:
    issue = _issue(request, org_slug, project_slug, issue_id)
    page = _page_number(request)
    rows, has_next = _window(UserReport.objects.filter(issue=issue).order_by("-date_added", "-id"), page)
    context = {"issue": issue, "reports": rows, "page": page, "has_next": has_next}
    return render(request, "feedback/issue_feedback.html", context)


@login_required
def project_feedback(request: HttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    project = get_project(request.user, org_slug, project_slug)
    page = _page_number(request)
    reports = UserReport.objects.filter(project=project).select_related("issue__project__organization")
    rows, has_next = _window(reports.order_by("-date_added", "-id"), page)
    context = {"project": project, "reports": rows, "page": page, "has_next": has_next}
    return render(request, "feedback/project_feedback.html", context)
