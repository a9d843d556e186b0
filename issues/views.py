"""Web pages: home, an issue with one of its events (the issue lists are issues/views_stream.py)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from logs.services import logs_around, serialize_record

from . import lifecycle
from .access import get_issue, get_project, parse_id, visible_projects
from .api import find_issue_event, neighbour_ids
from .event_serializers import event_entries
from .eventinfo import context_tables, problem_text, processing_errors
from .grouping import (
    RuleSyntaxError,
    compute_grouping,
    parse_enhancements,
    parse_fingerprint_rules,
)
from .issue_page import range_context, release_links, sidebar_context
from .lifecycle import LifecycleError
from .models import Event, GroupHash, Issue
from .payload import decode_event_data
from .rules_budget import rules_budget
from .serializers import issue_permalink
from .timeline import merged_timeline
from .views_feedback import issue_page_feedback
from .views_triage import triage_context


@login_required
def home(request: HttpRequest) -> HttpResponse:
    projects = visible_projects(request.user).order_by("organization__slug", "slug")
    return render(request, "issues/home.html", {"projects": projects})


@login_required
def issue_detail(
    request: HttpRequest, org_slug: str, project_slug: str, issue_id: int, event_id: str = "latest"
):
    issue = get_issue(request.user, issue_id)
    if issue.project.slug != project_slug or issue.project.organization.slug != org_slug:
        raise Http404("No such issue")
    try:
        event: Event | None = find_issue_event(issue, event_id)
    except Http404:
        if event_id != "latest":
            raise
        event = None
    context = {
        "issue": issue,
        "event": event,
        **range_context(issue, request.GET.get("period"), request.GET.get("environment", "")),
        **sidebar_context(issue),
        **release_links(issue),
        "permalink": issue_permalink(issue),
        "hashes": list(GroupHash.objects.filter(issue=issue).order_by("hash").values_list("hash", "config")),
        **triage_context(issue, request.user),
        **issue_page_feedback(issue),
    }
    if event is not None:
        data = decode_event_data(event.data)
        context.update(_event_context(data, minified=request.GET.get("frames") == "minified"))
        context["grouping"] = grouping_explanation(issue.project, data)
        context["older_id"], context["newer_id"] = neighbour_ids(event)
        context.update(_logs_context(issue, event, data, context["breadcrumbs"]))
    return render(request, "issues/issue_detail.html", context)


def _logs_context(issue: Issue, event: Event, data: dict, breadcrumbs: list) -> dict:
    """ "Logs around this error": its trace's records in the organization's projects, else the same
    user's within five minutes (logs/services.py); and one timeline of the breadcrumbs and the
    trace's records (never the same user's other requests)."""
    projects = {p.id: p.slug for p in issue.project.organization.projects.all()}
    user = data.get("user")
    user = user if isinstance(user, dict) else {}
    link, records = logs_around(projects, event.trace_id, user, event.timestamp)
    return {
        "logs_link": link,
        "logs_around": [serialize_record(r, projects) for r in records],
        "timeline": merged_timeline(breadcrumbs, records if link == "trace" else []),
    }


def _event_context(data: dict, minified: bool = False) -> dict:
    """`minified`: the frames as the SDK sent them, where source maps rewrote them (?frames=minified)."""
    entries = {e["type"]: e["data"] for e in event_entries(data)}
    exceptions = list(reversed((entries.get("exception") or {}).get("values") or []))
    for exc in exceptions:
        shown = exc.get("rawStacktrace") if minified and exc.get("rawStacktrace") else exc.get("stacktrace")
        exc["frames_newest_first"] = list(reversed((shown or {}).get("frames") or []))
    request_data = data.get("request") or {}
    return {
        "context_tables": context_tables(data.get("contexts")),
        "data": data,
        "exceptions": exceptions,
        "message": (data.get("logentry") or {}).get("formatted"),
        "breadcrumbs": (data.get("breadcrumbs") or {}).get("values") or [],
        "request_data": request_data,
        "event_tags": data.get("tags") or [],
        "extra": data.get("extra") or {},
        "event_user": data.get("user") or {},
        # Invalid values (kept aside in errors/_meta) and, apart, frames source maps could not map.
        "problems": [problem_text(e) for e in processing_errors(data) if not e["type"].startswith("js_")],
        "sourcemap_problems": [
            problem_text(e) for e in processing_errors(data) if e["type"].startswith("js_")
        ],
        "has_minified_frames": any(exc.get("rawStacktrace") for exc in exceptions),
        "showing_minified": minified,
    }


def grouping_explanation(project, data: dict) -> dict:
    """The component tree of the event's grouping, recomputed with the config its hashes were made
    with and the project's current rules; `differs` says when that no longer gives the stored hashes."""
    stored = data.get("_grouping") or {}
    fingerprint_rules = enhancements = None
    if project.rules_suspended_at is None:  # suspended rules group nothing, so they explain nothing
        try:
            if project.fingerprint_rules:
                fingerprint_rules = parse_fingerprint_rules(project.fingerprint_rules)
            if project.stacktrace_rules:
                enhancements = parse_enhancements(project.stacktrace_rules)
        except RuleSyntaxError:
            fingerprint_rules = enhancements = None
    config_id = stored.get("config_id") or project.grouping_config
    # The page runs the tenant's rules too: the same CPU budget as on the workers.
    grouping = compute_grouping(
        data,
        config_id=config_id,
        fingerprint_rules=fingerprint_rules,
        enhancements=enhancements,
        budget=rules_budget(),
    )
    result = grouping.to_dict()
    stored_hashes = stored.get("hashes") or result["hashes"]
    differs = not set(result["hashes"]) & set(stored_hashes)
    return {
        **result,
        "hashes": stored_hashes,
        "differs": differs,
        "rules_over_budget": grouping.rules_over_budget,
    }


@login_required
@require_POST
def merge_selected(request: HttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    project = get_project(request.user, org_slug, project_slug)
    ids = [i for i in map(parse_id, request.POST.getlist("issue")) if i is not None]
    issues = list(Issue.objects.filter(project=project, pk__in=ids))
    try:
        parent, _ = lifecycle.merge(issues, request.user)
    except LifecycleError:
        return HttpResponse("select at least two issues to merge", status=400)
    parent.project = project
    return redirect(issue_permalink(parent))


@login_required
@require_POST
def unmerge_hash(request: HttpRequest, org_slug: str, project_slug: str, issue_id: int) -> HttpResponse:
    issue = get_issue(request.user, issue_id)
    if issue.project.slug != project_slug or issue.project.organization.slug != org_slug:
        raise Http404("No such issue")
    new_issue = lifecycle.unmerge(issue, request.POST.getlist("hash"), request.user)
    if new_issue is None:
        return HttpResponse("nothing to unmerge", status=400)
    return redirect(issue_permalink(new_issue))
