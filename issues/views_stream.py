"""The issue stream pages: a project's issue list and the organization-wide one, their bulk actions
(on the selected issues or on every issue matching the search) and saved searches. Thin views: the
search, scope and order are issues/stream.py, changes go through issues/updates.py (and so
issues/lifecycle.py), as in the API."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from core.pagination import MAX_OFFSET
from projects.models import Organization, OrganizationMember, Project, Team
from releases.models import Environment

from . import inbox, lifecycle
from .access import get_organization, get_project, organization_project_ids, parse_id, visible_projects
from .lifecycle import LifecycleError
from .models import Issue, SavedSearch
from .search import SearchError
from .serializers import issue_permalink
from .stream import (
    BUILTIN_SEARCHES,
    MAX_HITS,
    PERIODS,
    SORT_WORDS,
    capped_count,
    matching,
    page_ids,
    page_rows,
    parse_scope,
    sparkline_svg,
)
from .stream_counts import range_stats
from .updates import apply_update, parse_update

PAGE_SIZE = 50
PAGE_RELATIONS = ("project", "project__organization", "assignee_user", "assignee_team")
# What the page's list keeps in its links and hidden fields (the search and its scope).
LIST_PARAMS = ("query", "sort", "statsPeriod", "start", "end", "environment", "project")
# Bulk form actions, as Sentry's update body (issues/updates.py validates them).
ACTIONS: dict[str, dict[str, object]] = {
    "resolved": {"status": "resolved"},
    "resolvedInNextRelease": {"status": "resolvedInNextRelease"},
    "unresolved": {"status": "unresolved"},
    "ignored": {"status": "ignored"},
    "bookmark": {"isBookmarked": True},
    "unbookmark": {"isBookmarked": False},
    "seen": {"hasSeen": True},
    "reviewed": {"inbox": False},
    "merge": {"merge": 1},
}
# What the confirmation says each action did ("Resolved 3 issues.").
DONE_WORDS = {
    "resolved": "Resolved",
    "resolvedInNextRelease": "Resolved in the next release:",
    "unresolved": "Unresolved",
    "ignored": "Ignored",
    "bookmark": "Bookmarked",
    "unbookmark": "Removed the bookmark of",
    "seen": "Marked as seen:",
    "reviewed": "Marked as reviewed:",
    "assign": "Assigned",
}
IGNORE_FIELDS = {
    "ignoreDuration": "ignore_minutes",
    "ignoreCount": "ignore_count",
    "ignoreWindow": "ignore_window",
    "ignoreUserCount": "ignore_user_count",
    "ignoreUserWindow": "ignore_user_window",
}


@dataclass(frozen=True)
class ListOf:
    """What a list page or its bulk form is of: one project, or some or all of an organization's
    projects (`project=ID`, repeated; -1 or none is every project, as Sentry's)."""

    organization: Organization
    project: Project | None
    project_ids: list[int]  # the range sorts read these projects' buckets

    @property
    def issues(self) -> QuerySet[Issue]:
        return Issue.objects.filter(project_id__in=self.project_ids)


def _of_project(request: HttpRequest, org_slug: str, project_slug: str) -> ListOf:
    project = get_project(request.user, org_slug, project_slug)
    return ListOf(project.organization, project, [project.pk])


def _of_organization(request: HttpRequest, org_slug: str, params: QueryDict) -> ListOf:
    organization = get_organization(request.user, org_slug)
    return ListOf(organization, None, organization_project_ids(organization, params))


@login_required
def issue_list(request: HttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    return _stream_page(request, _of_project(request, org_slug, project_slug))


@login_required
def organization_issues(request: HttpRequest, org_slug: str) -> HttpResponse:
    return _stream_page(request, _of_organization(request, org_slug, request.GET))


def _stream_page(request: HttpRequest, of: ListOf) -> HttpResponse:
    organization, project = of.organization, of.project
    query = request.GET.get("query")
    search_error = ""
    try:
        scope = parse_scope(request.GET, bounded_by_default=False)
        found = matching(of.issues, query, scope, request.user)
    except SearchError as exc:
        search_error = str(exc)
        scope = parse_scope(QueryDict(), bounded_by_default=False)
        found = Issue.objects.none()
    total = capped_count(found)
    page = _page(found, scope, of.project_ids, request.GET.get("page"), total)
    stats = range_stats(page.rows, scope)
    waiting = inbox.entries([i.pk for i in page.rows])
    for issue in page.rows:
        entry = waiting.get(issue.pk)
        issue.inbox_words = inbox.REASON_WORDS.get(entry.reason, "") if entry else ""
        issue.inbox_since = entry.date_added if entry else None
        issue.permalink = issue_permalink(issue)
        issue.range = stats[issue.pk]
        issue.spark = mark_safe(sparkline_svg(issue.range.series))  # numbers only  # noqa: S308
        issue.initials = _initials(issue)
    context = {
        "organization": organization,
        "project": project,
        "page": page,
        "total": min(total, MAX_HITS),
        "more": total > MAX_HITS,
        "query": "is:unresolved" if query is None else query,
        "search_error": search_error,
        "scope": scope,
        "sorts": SORT_WORDS,
        "periods": list(PERIODS),
        "environments": _environments(organization, project),
        "projects": None if project else visible_projects(request.user).filter(organization=organization),
        "chosen_projects": request.GET.getlist("project"),
        "saved": _saved_searches(request.user, organization),
        "builtin": [(name, urlencode({"query": q})) for name, q in BUILTIN_SEARCHES],
        "list_params": [(k, v) for k in LIST_PARAMS for v in request.GET.getlist(k)],
        "page_query": urlencode([(k, v) for k in LIST_PARAMS for v in request.GET.getlist(k)]),
        "list_url": _list_url(organization, project),
        "members": _members(organization),
        "teams": Team.objects.filter(organization=organization).order_by("slug"),
        "bulk_url": _bulk_url(organization, project),
    }
    return render(request, "issues/issue_list.html", context)


@dataclass
class Page:
    rows: list[Issue]
    number: int
    num_pages: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def _page(found: QuerySet[Issue], scope, project_ids: list[int], raw_number: str | None, total: int) -> Page:
    """One page by offset (no COUNT of its own: the capped total says how many pages)."""
    number = parse_id(raw_number or "1") or 1
    number = max(1, min(number, MAX_OFFSET // PAGE_SIZE + 1))
    offset = (number - 1) * PAGE_SIZE
    rows = page_rows(found, scope, project_ids, offset, PAGE_SIZE + 1, PAGE_RELATIONS)
    pages = max(1, -(-min(total, MAX_HITS) // PAGE_SIZE))
    return Page(rows[:PAGE_SIZE], number, max(pages, number), len(rows) > PAGE_SIZE)


def _initials(issue: Issue) -> str:
    if issue.assignee_user is not None:
        user = issue.assignee_user
        name = user.get_full_name() or user.get_username()
        return "".join(part[0] for part in name.split()[:2]).upper()
    return ("#" + issue.assignee_team.slug[:2]).upper() if issue.assignee_team else ""


def _environments(organization, project) -> list[str]:
    environments = Environment.objects.filter(is_hidden=False)
    if project is not None:
        environments = environments.filter(project=project)
    else:
        environments = environments.filter(project__organization=organization)
    return sorted(set(environments.values_list("name", flat=True)[:200]))


def _members(organization):
    member_ids = OrganizationMember.objects.filter(organization=organization).values("user_id")
    return get_user_model().objects.filter(pk__in=member_ids, is_active=True).order_by("username")[:200]


def _saved_searches(user, organization) -> list[SavedSearch]:
    return list(SavedSearch.objects.filter(organization=organization, user=user).order_by("name")[:50])


def _bulk_url(organization, project) -> str:
    if project is None:
        return reverse("organization-issue-bulk", args=[organization.slug])
    return reverse("issue-bulk", args=[organization.slug, project.slug])


def _list_url(organization, project) -> str:
    if project is None:
        return reverse("organization-issues", args=[organization.slug])
    return reverse("issue-list", args=[organization.slug, project.slug])


# --- Bulk actions ----------------------------------------------------------------------------------


@login_required
@require_POST
def bulk_action(request: HttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    return _bulk(request, _of_project(request, org_slug, project_slug))


@login_required
@require_POST
def organization_bulk_action(request: HttpRequest, org_slug: str) -> HttpResponse:
    return _bulk(request, _of_organization(request, org_slug, request.POST))


def _bulk(request: HttpRequest, of: ListOf) -> HttpResponse:
    """`action` on the checked `issue`s, or with `all` = 1 on every issue matching the list's search
    and scope (the hidden fields), at most lifecycle.BULK_LIMIT of them, as Sentry's bulk API."""
    action = request.POST.get("action", "")
    try:
        selected = _selection(request, of)
        if not selected:
            raise LifecycleError("Select at least one issue first (or all matching the search).")
        messages.info(request, _apply_bulk(request, of.organization, action, selected))
    except (LifecycleError, SearchError) as exc:
        # Back to the list with the reason, not a bare error page: the action bar is always there.
        messages.error(request, str(exc))
    back = [(k, v) for k in LIST_PARAMS for v in request.POST.getlist(k)]
    return redirect(_list_url(of.organization, of.project) + "?" + urlencode(back))


def _apply_bulk(request: HttpRequest, organization, action: str, selected: list[int]) -> str:
    """Carries out the action and says what it did."""
    if action == "delete":
        if request.POST.get("confirm") != "yes":
            raise LifecycleError("Nothing was deleted: tick the box that confirms the deletion.")
        deleted = lifecycle.delete(selected, request.user)
        return f"Deleted {deleted} issue{'s' if deleted != 1 else ''}."
    update = parse_update(_update_body(request.POST, action), organization)
    chosen = list(Issue.objects.filter(pk__in=selected))
    apply_update(update, chosen, request.user)
    if action == "merge":
        kept = Issue.objects.filter(pk__in=selected).first()  # the sources are gone: the target
        where = f" into {kept.short_id_display}" if kept is not None else ""
        return f"Merged {len(selected)} issues{where}."
    verb = DONE_WORDS.get(action, action)
    return f"{verb} {len(selected)} issue{'s' if len(selected) != 1 else ''}."


def _selection(request: HttpRequest, of: ListOf) -> list[int]:
    if request.POST.get("all") == "1":
        scope = parse_scope(request.POST, bounded_by_default=False)
        found = matching(of.issues, request.POST.get("query"), scope, request.user)
        return page_ids(found, scope, of.project_ids, 0, lifecycle.BULK_LIMIT)
    wanted = [i for i in map(parse_id, request.POST.getlist("issue")) if i is not None]
    return list(of.issues.filter(pk__in=wanted[: lifecycle.BULK_LIMIT]).values_list("pk", flat=True))


def _update_body(post: QueryDict, action: str) -> dict:
    if action == "assign":
        return {"assignedTo": post.get("assignee", "")}
    if action not in ACTIONS:
        raise LifecycleError(f"unknown action {action!r}")
    body: dict = dict(ACTIONS[action])
    if action == "ignored":
        details = {key: post.get(name, "").strip() for key, name in IGNORE_FIELDS.items()}
        body["statusDetails"] = {k: v for k, v in details.items() if v}
        if post.get("substatus"):
            body["substatus"] = post["substatus"]
    return body


# --- Saved searches --------------------------------------------------------------------------------


@login_required
@require_POST
def saved_search(request: HttpRequest, org_slug: str) -> HttpResponse:
    """Saves the list's current search under `name` (with its sort), or with `delete` removes one
    of the user's own; back to `next`, a list of this organization."""
    organization = get_organization(request.user, org_slug)
    own = SavedSearch.objects.filter(organization=organization, user=request.user)
    if request.POST.get("delete"):
        own.filter(pk=parse_id(request.POST["delete"])).delete()
    else:
        name = request.POST.get("name", "").strip()[:100]
        query = request.POST.get("query", "")[:2000]
        if not name:
            return HttpResponse("a saved search needs a name", status=400, content_type="text/plain")
        SavedSearch.objects.update_or_create(
            organization=organization, user=request.user, name=name,
            defaults={"query": query, "sort": request.POST.get("sort", "date")[:16]},
        )  # fmt: skip
    return redirect(_safe_next(request, organization))


def _safe_next(request: HttpRequest, organization: Organization) -> str:
    target = request.POST.get("next", "")
    prefix = f"/organizations/{organization.slug}/"
    if target.startswith(prefix) and "//" not in target and "\\" not in target:
        return target
    return reverse("organization-issues", args=[organization.slug])
