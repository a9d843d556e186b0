"""The issue page's triage actions (status, ignore conditions, assignment, bookmark, subscription,
delete, comments) and the activity stream it shows. Every form is a CSRF-protected POST that calls
one lifecycle, participation or comments function and redirects back to the issue."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from projects.models import OrganizationMember, Team
from releases.models import Release

from . import inbox, lifecycle, participation
from .access import get_issue
from .comments import CommentError, add_note, delete_note, edit_note, render_markdown
from .lifecycle import LifecycleError
from .models import Activity, Issue
from .serializers import issue_permalink

# Activity types in words, for the page (the API keeps Sentry's names).
ACTIVITY_WORDS = {
    Activity.Type.SET_RESOLVED: "resolved the issue",
    Activity.Type.SET_RESOLVED_IN_RELEASE: "resolved the issue",
    Activity.Type.SET_UNRESOLVED: "marked the issue unresolved",
    Activity.Type.SET_IGNORED: "ignored the issue",
    Activity.Type.SET_REGRESSION: "marked the issue as a regression",
    Activity.Type.SET_ESCALATING: "marked the issue as escalating",
    Activity.Type.AUTO_SET_ONGOING: "marked the issue as ongoing",
    Activity.Type.MARK_REVIEWED: "marked the issue as reviewed",
    Activity.Type.ASSIGNED: "assigned the issue",
    Activity.Type.UNASSIGNED: "unassigned the issue",
    Activity.Type.NOTE: "commented",
    Activity.Type.MERGE: "merged issues into this one",
    Activity.Type.UNMERGE_SOURCE: "unmerged hashes into a new issue",
    Activity.Type.UNMERGE_DESTINATION: "created this issue by unmerging hashes",
}
REASON_WORDS = {
    "ignore_condition_met": "it got more events or users than the ignore allowed",
    "ignore_duration_expired": "the ignore's time was up",
    "escalating": "its last hour was well above its usual rate",
}
SUBSTATUS_WORDS = {
    "new": "New",
    "ongoing": "Ongoing",
    "regressed": "Regressed",
    "escalating": "Escalating",
    "archived_forever": "Ignored forever",
    "archived_until_condition_met": "Ignored until a condition is met",
    "archived_until_escalating": "Ignored until it escalates",
}


def triage_context(issue: Issue, user) -> dict:
    """What the issue page shows besides the event; marks the issue seen by the viewer."""
    participation.set_seen([issue.pk], user, True)
    flags = participation.user_flags([issue.pk], user)
    activity = list(
        Activity.objects.filter(issue=issue).select_related("user").order_by("-created", "-id")[:200]
    )
    for entry in activity:
        entry.words = ACTIVITY_WORDS.get(entry.type, entry.type)
        entry.detail = _detail(entry)
        if entry.type == Activity.Type.NOTE:
            entry.html = render_markdown(str(entry.data.get("text", "")))
    org = issue.project.organization
    member_ids = OrganizationMember.objects.filter(organization=org).values("user_id")
    return {
        "activity": activity,
        "status_words": status_words(issue),
        "is_bookmarked": issue.pk in flags.bookmarked,
        "is_subscribed": issue.pk in flags.subscribed,
        "members": get_user_model().objects.filter(pk__in=member_ids, is_active=True).order_by("username"),
        "teams": Team.objects.filter(organization=org).order_by("slug"),
        "snooze": _snooze_words(getattr(issue, "snooze", None))
        if issue.status == Issue.Status.IGNORED
        else "",
        "inbox": _inbox_entry(issue),
        # The Resolve menu's "in release" choices: the organization's newest releases.
        "releases": Release.objects.filter(organization=org).order_by("-date_added", "-pk")[:50],
    }


def _inbox_entry(issue: Issue):
    entry = inbox.entries([issue.pk]).get(issue.pk)
    if entry is not None:
        entry.words = inbox.REASON_WORDS.get(entry.reason, "")
    return entry


def status_words(issue: Issue) -> str:
    """ "Unresolved · Regressed", "Ignored until a condition is met", "Resolved"."""
    words = SUBSTATUS_WORDS.get(issue.substatus, "")
    resolution = getattr(issue, "resolution", None) if issue.status == Issue.Status.RESOLVED else None
    if resolution is not None:
        version = resolution.release.version if resolution.release else "a deleted release"
        return (
            "Resolved in the next release"
            if resolution.type == "in_next_release"
            else f"Resolved in {version}"
        )
    if issue.status == Issue.Status.UNRESOLVED:
        return f"Unresolved · {words}" if words else "Unresolved"
    return words if issue.status == Issue.Status.IGNORED and words else issue.get_status_display()


def _snooze_words(snooze) -> str:
    """ "until 2026-01-01 10:00 UTC", "until 5 more events within 1 hour", ... ("" without one)."""
    if snooze is None:
        return ""
    until = f"until {snooze.until:%Y-%m-%d %H:%M} UTC" if snooze.until else ""
    return _condition_words(until, snooze.count, snooze.window, snooze.user_count, snooze.user_window)


def _condition_words(lead: str, count, window, user_count, user_window) -> str:
    """An ignore condition in words, from the snooze of the page's header or from the activity
    row of the ignore: `lead` (its time), then "until N more events/users [within M]"."""
    parts = [lead]
    for number, noun, minutes in ((count, "events", window), (user_count, "users", user_window)):
        if number:
            parts.append(
                f"until {number} more {noun}" + (f" within {minutes_words(minutes)}" if minutes else "")
            )
    return ", ".join(p for p in parts if p)


def minutes_words(minutes) -> str:
    """120 -> "2 hours", 90 -> "90 minutes", 10080 -> "7 days": the largest unit that divides."""
    try:
        minutes = int(minutes)
    except (TypeError, ValueError):
        return f"{minutes} minutes"
    for size, unit in ((7 * 1440, "week"), (1440, "day"), (60, "hour"), (1, "minute")):
        if minutes % size == 0:
            count = minutes // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{minutes} minutes"


def _detail(entry: Activity) -> str:
    data = entry.data or {}
    if entry.type == Activity.Type.SET_RESOLVED_IN_RELEASE:
        return f"in {data['version']}" if data.get("version") else "in the next release"
    if entry.type == Activity.Type.SET_IGNORED:
        if data.get("ignoreUntilEscalating"):
            return "until it escalates"
        lead = f"for {minutes_words(data['ignoreDuration'])}" if data.get("ignoreDuration") else ""
        keys = ("ignoreCount", "ignoreWindow", "ignoreUserCount", "ignoreUserWindow")
        return _condition_words(lead, *(data.get(k) for k in keys)) or "forever"
    if entry.type == Activity.Type.ASSIGNED:
        return f"to {data.get('assigneeName') or data.get('assigneeEmail') or 'a ' + data.get('assigneeType', 'user')}"
    if entry.type == Activity.Type.MERGE:
        return ", ".join(i.get("shortId", "") for i in data.get("issues", []))
    return REASON_WORDS.get(data.get("reason", ""), "")


def _issue(request: HttpRequest, org_slug: str, project_slug: str, issue_id: int) -> Issue:
    issue = get_issue(request.user, issue_id)
    if issue.project.slug != project_slug or issue.project.organization.slug != org_slug:
        raise Http404("No such issue")
    return issue


def _back(request: HttpRequest, issue: Issue, error: Exception | None = None) -> HttpResponse:
    if error is not None:
        messages.error(request, str(error))
    return redirect(issue_permalink(issue))


@login_required
@require_POST
def issue_set_status(request: HttpRequest, org_slug: str, project_slug: str, issue_id: int) -> HttpResponse:
    """`status` resolved / resolvedInNextRelease / unresolved / ignored; a resolve may carry
    `in_release` (a version); an ignore `ignore_minutes`, `ignore_count` (with `ignore_window`),
    `ignore_user_count` (with `ignore_user_window`) or `substatus` archived_until_escalating."""
    issue = _issue(request, org_slug, project_slug, issue_id)
    status = request.POST.get("status", "")
    fields = {
        "inRelease": "in_release",
        "ignoreDuration": "ignore_minutes",
        "ignoreCount": "ignore_count",
        "ignoreWindow": "ignore_window",
        "ignoreUserCount": "ignore_user_count",
        "ignoreUserWindow": "ignore_user_window",
    }
    details = {key: request.POST.get(name, "").strip() for key, name in fields.items()}
    try:
        resolution = lifecycle.parse_resolution(status, details, issue.project.organization)
        condition = None
        if lifecycle.parse_status(status) == Issue.Status.IGNORED:
            condition = lifecycle.parse_ignore_condition(details, request.POST.get("substatus"))
        lifecycle.set_status([issue.pk], request.user, status, condition, resolution)
    except LifecycleError as exc:
        return _back(request, issue, exc)
    return _back(request, issue)


@login_required
@require_POST
def issue_assign(request: HttpRequest, org_slug: str, project_slug: str, issue_id: int) -> HttpResponse:
    """`assignee`: `user:ID`, `team:ID`, or empty to unassign."""
    issue = _issue(request, org_slug, project_slug, issue_id)
    try:
        assignee = lifecycle.find_assignee(issue.project.organization, request.POST.get("assignee", ""))
    except LifecycleError as exc:
        return _back(request, issue, exc)
    lifecycle.assign([issue.pk], request.user, assignee)
    return _back(request, issue)


@login_required
@require_POST
def issue_flag(
    request: HttpRequest, org_slug: str, project_slug: str, issue_id: int, flag: str
) -> HttpResponse:
    """Bookmark, subscribe or mark reviewed (`on` = 1) and undo it (`on` = 0; for `reviewed`: back
    into the review inbox)."""
    issue = _issue(request, org_slug, project_slug, issue_id)
    setter = {
        "bookmark": participation.set_bookmarked,
        "subscribe": participation.set_subscribed,
        "reviewed": _set_reviewed,
    }.get(flag)
    if setter is None:
        raise Http404("No such action")
    setter([issue.pk], request.user, request.POST.get("on") == "1")
    return _back(request, issue)


def _set_reviewed(ids: list[int], user, on: bool) -> None:
    (lifecycle.mark_reviewed if on else lifecycle.add_to_inbox)(ids, user)


@login_required
@require_POST
def issue_delete(request: HttpRequest, org_slug: str, project_slug: str, issue_id: int) -> HttpResponse:
    issue = _issue(request, org_slug, project_slug, issue_id)
    if request.POST.get("confirm") != "yes":
        return _back(
            request, issue, LifecycleError("Nothing was deleted: tick the box that confirms the deletion.")
        )
    lifecycle.delete([issue.pk], request.user)
    messages.info(request, f"Deleted {issue.short_id_display}.")
    return redirect(reverse("issue-list", args=[org_slug, project_slug]))


@login_required
@require_POST
def issue_comment(request: HttpRequest, org_slug: str, project_slug: str, issue_id: int) -> HttpResponse:
    """Adds a comment; with `note` it edits that comment, with `note` and `delete` removes it."""
    issue = _issue(request, org_slug, project_slug, issue_id)
    note_id = request.POST.get("note")
    try:
        if not note_id:
            add_note(issue, request.user, request.POST.get("text", ""))
        elif request.POST.get("delete") == "1":
            delete_note(issue, note_id, request.user)
        else:
            edit_note(issue, note_id, request.user, request.POST.get("text", ""))
    except Activity.DoesNotExist as exc:
        raise Http404("No such comment") from exc
    except CommentError as exc:
        return _back(request, issue, exc)
    return _back(request, issue)
