"""The issue page's other tabs: its events, page by page, and one tag key's values (the affected
users are the values of the `user` tag, each with its identifiers, searchable by any of them).

Pages are an offset into an index order with one row more than the page to know whether there is
a next one: no COUNT over events or tag values."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from .access import get_issue
from .affected_users import identifiers_by_tag_value
from .models import Event, Issue
from .tag_summary import USER_KEY, key_label, tag_keys, tag_values

PAGE_SIZE = 50
MAX_PAGE = 2000  # an offset of at most 100,000 rows (events are capped per issue anyway)


def _issue(request: HttpRequest, org_slug: str, project_slug: str, issue_id: int) -> Issue:
    issue = get_issue(request.user, issue_id)
    if issue.project.slug != project_slug or issue.project.organization.slug != org_slug:
        raise Http404("No such issue")
    return issue


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return min(MAX_PAGE, max(1, int(raw))) if raw.isascii() and raw.isdigit() else 1


def _window(rows, page: int) -> tuple[list, bool]:
    start = (page - 1) * PAGE_SIZE
    found = list(rows[start : start + PAGE_SIZE + 1])
    return found[:PAGE_SIZE], len(found) > PAGE_SIZE


@login_required
def issue_events(request: HttpRequest, org_slug: str, project_slug: str, issue_id: int) -> HttpResponse:
    issue = _issue(request, org_slug, project_slug, issue_id)
    page = _page_number(request)
    events = Event.objects.filter(issue=issue).order_by("-timestamp", "-id").defer("data")
    rows, has_next = _window(events, page)
    context = {"issue": issue, "events": rows, "page": page, "has_next": has_next}
    return render(request, "issues/issue_events.html", context)


@login_required
def issue_tag_values(
    request: HttpRequest, org_slug: str, project_slug: str, issue_id: int, key: str = USER_KEY
) -> HttpResponse:
    """Most frequent first; `?query=` keeps the values containing it."""
    issue = _issue(request, org_slug, project_slug, issue_id)
    query = request.GET.get("query", "").strip()[:200]
    page = _page_number(request)
    rows, has_next = _window(tag_values(issue.pk, key, "-count", query), page)
    summary = tag_keys(issue.pk, [key], top=0)
    if key == USER_KEY:
        found = identifiers_by_tag_value(issue.pk, [row.value for row in rows])
        for row in rows:
            row.identifiers = found.get(row.value)
    context = {
        "issue": issue,
        "key": key,
        "label": key_label(key),
        "is_users": key == USER_KEY,
        "summary": summary[0] if summary else None,
        "values": rows,
        "query": query,
        "page": page,
        "has_next": has_next,
    }
    return render(request, "issues/issue_tag_values.html", context)
