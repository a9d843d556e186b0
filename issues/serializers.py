"""Sentry's API shapes for issues and events (camelCase field names, counts as strings)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.urls import reverse

from feedback.serializers import report_counts
from releases.models import Release
from releases.serializers import serialize_releases

from .buckets import issue_stats
from .inbox import entries as inbox_entries
from .models import Activity, Issue, IssueInbox, IssueResolution, IssueSnooze, IssueTag
from .participation import UserFlags, participants, seen_by, user_flags
from .tag_summary import tag_keys

# Everything serialize_issue reads besides the issue row: fetch issues with this and the per-user
# flags with user_flags, and a page of issues costs the same few queries whatever its size.
ISSUE_RELATIONS = (
    "project__organization", "assignee_user", "assignee_team", "snooze__actor",
    "resolution__release", "resolution__actor",
)  # fmt: skip


def iso(dt) -> str | None:
    return dt.isoformat().replace("+00:00", "Z") if dt else None


def issue_permalink(issue: Issue) -> str:
    org = issue.project.organization.slug
    return settings.LIGHTTRACE_URL + reverse("issue-detail", args=[org, issue.project.slug, issue.pk])


def serialize_user(user) -> dict[str, Any] | None:
    if user is None:
        return None
    return {
        "id": str(user.pk),
        "name": user.get_full_name() or user.get_username(),
        "username": user.get_username(),
        "email": user.email,
    }


def serialize_assignee(issue: Issue) -> dict[str, Any] | None:
    if issue.assignee_team_id is not None:
        team = issue.assignee_team
        return {"type": "team", "id": str(team.pk), "name": team.slug}
    if issue.assignee_user_id is not None:
        return {"type": "user", **(serialize_user(issue.assignee_user) or {})}
    return None


def status_details(issue: Issue) -> dict[str, Any]:
    """Sentry's shape: the release a resolve holds for, or what is left of an ignore's condition
    (events and users still allowed; windowed ones are rates and stay as set)."""
    if issue.status == Issue.Status.RESOLVED:
        return _resolution_details(issue)
    if issue.status != Issue.Status.IGNORED:
        return {}
    try:
        snooze = issue.snooze
    except IssueSnooze.DoesNotExist:
        return {}
    events_left = users_left = None
    if snooze.count:
        events_left = max(0, snooze.count - (issue.times_seen - snooze.times_seen_at_start))
    if snooze.count and snooze.window:
        events_left = snooze.count
    if snooze.user_count and snooze.user_window:
        users_left = snooze.user_count
    elif snooze.user_count:
        users_left = max(0, snooze.user_count - (issue.user_count - snooze.user_count_at_start))
    return {
        "ignoreCount": events_left,
        "ignoreUntil": iso(snooze.until),
        "ignoreUserCount": users_left,
        "ignoreUserWindow": snooze.user_window,
        "ignoreWindow": snooze.window,
        "actor": serialize_user(snooze.actor),
    }


def _resolution_details(issue: Issue) -> dict[str, Any]:
    try:
        resolution = issue.resolution
    except IssueResolution.DoesNotExist:
        return {}
    if resolution.type == IssueResolution.Type.IN_NEXT_RELEASE:
        details: dict[str, Any] = {"inNextRelease": True}
    else:
        details = {"inRelease": resolution.release.version if resolution.release else None}
    return {**details, "actor": serialize_user(resolution.actor)}


# Sentry's initial priority when its severity model gives no score: the level decides.
_PRIORITY_BY_LEVEL = {"fatal": "high", "error": "high", "warning": "medium", "info": "low", "debug": "low"}


def issue_priority(issue: Issue) -> str:
    """`high`, `medium` or `low` from the level, and `high` while escalating (Sentry raises an
    escalating issue's priority). Not stored, so it cannot be set (issues/updates.py)."""
    if issue.substatus == Issue.Substatus.ESCALATING:
        return "high"
    return _PRIORITY_BY_LEVEL.get(issue.level, "medium")


def unhandled_issue_ids(ids: list[int]) -> set[int]:
    """Issues whose newest event was unhandled (Sentry's `isUnhandled`: the newest event's
    mechanism has `handled: false`), from the `handled` tag rows the batch writer keeps with their
    last-seen times: one query for a page, no scan of events."""
    newest: dict[int, dict[str, datetime]] = {}
    rows = IssueTag.objects.filter(issue_id__in=ids, key="handled", value__in=("yes", "no"))
    for issue_id, value, last_seen in rows.values_list("issue_id", "value", "last_seen"):
        newest.setdefault(issue_id, {})[value] = last_seen
    return {i for i, seen in newest.items() if "no" in seen and seen["no"] >= seen.get("yes", seen["no"])}


def serialize_issues(
    issues: list[Issue],
    user,
    in_range: dict[int, Any] | None = None,
    environments: list[str] | None = None,
    expand: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """A page of issues (fetched with ISSUE_RELATIONS): a fixed number of queries for any size.
    `in_range`: the issue stream's counts per issue (stream_counts.RangeStats) within the selected
    range and `environments`, as Sentry's list: `count` and `userCount` are those, `stats` within
    the environments, `lifetime` the issue's totals; `filtered` is null (counts of the events a
    query's tag conditions match are not kept). `expand` as Sentry's: `inbox` adds each issue's
    review inbox entry (or null)."""
    ids = [i.pk for i in issues]
    flags = user_flags(ids, user)
    comments = dict(
        Activity.objects.filter(issue_id__in=ids, type=Activity.Type.NOTE)
        .values("issue_id")
        .annotate(n=Count("id"))
        .values_list("issue_id", "n")
    )
    stats = issue_stats(ids, environments=environments or ())
    releases = _release_objects(issues)
    reports = report_counts(ids)
    unhandled = unhandled_issue_ids(ids)
    rows = [
        {
            **serialize_issue(i, flags, comments.get(i.pk, 0), stats[i.pk], releases, i.pk in unhandled),
            "userReportCount": reports.get(i.pk, 0),
        }
        for i in issues
    ]
    if in_range is not None:
        for issue, data in zip(issues, rows, strict=True):
            data["filtered"] = None
            data["count"] = str(in_range[issue.pk].events)
            data["userCount"] = in_range[issue.pk].users
    if "inbox" in expand:
        inbox = inbox_entries(ids)
        for item, issue in zip(rows, issues, strict=True):
            item["inbox"] = serialize_inbox(inbox.get(issue.pk))
    return rows


def serialize_inbox(entry: IssueInbox | None) -> dict[str, Any] | None:
    """Sentry's `inbox`: the reason as its GroupInboxReason number, what ended an ignore, when."""
    if entry is None:
        return None
    return {
        "reason": entry.reason,
        "reason_details": entry.reason_details,
        "date_added": iso(entry.date_added),
    }


def _release_objects(issues: list[Issue]) -> dict[tuple[int, str], dict[str, Any]]:
    """`firstRelease` / `lastRelease` of a page of issues as Sentry's release objects, by
    (organization, version): a fixed number of queries for any page (none without releases)."""
    versions = {v for i in issues for v in (i.first_release, i.last_release) if v}
    org_ids = {i.project.organization_id for i in issues}
    if not versions:
        return {}
    found = list(Release.objects.filter(organization_id__in=org_ids, version__in=versions))
    return {
        (r.organization_id, r.version): data for r, data in zip(found, serialize_releases(found), strict=True)
    }


def serialize_issue_detail(issue: Issue, user, expand: Iterable[str] = ()) -> dict[str, Any]:
    data = serialize_issues([issue], user, expand=expand)[0]
    activity = Activity.objects.filter(issue=issue).select_related("user").order_by("-created", "-id")[:100]
    data["activity"] = [serialize_activity(a) for a in activity]
    data["participants"] = [serialize_user(u) for u in participants(issue.pk)]
    data["seenBy"] = [{**(serialize_user(u) or {}), "lastSeen": iso(when)} for u, when in seen_by(issue.pk)]
    keys = tag_keys(issue.pk, top=0)
    data["tags"] = [  # by name, as Sentry's issue details sorts them
        {"key": k.key, "name": k.label, "totalValues": k.total} for k in sorted(keys, key=lambda k: k.label)
    ]
    # No filter narrows the counts here, so `filtered` is null as in Sentry without a query.
    data["filtered"] = None
    data.update(pluginActions=[], pluginIssues=[], pluginContexts=[], shareId=None)
    return data


def serialize_activity(activity: Activity) -> dict[str, Any]:
    return {
        "id": str(activity.pk),
        "user": serialize_user(activity.user),
        "sentry_app": None,
        "type": activity.type,
        "data": activity.data,
        "dateCreated": iso(activity.created),
    }


def serialize_issue(
    issue: Issue,
    flags: UserFlags | None = None,
    num_comments: int = 0,
    stats: dict[str, list] | None = None,
    releases: dict[tuple[int, str], dict[str, Any]] | None = None,
    unhandled: bool | None = None,
) -> dict[str, Any]:
    """`stats`: this issue's entry of buckets.issue_stats, `releases` the page's release objects
    and `unhandled` from unhandled_issue_ids (serialize_issues fetches them for the whole page);
    without them, queries for this issue."""
    project = issue.project
    flags = flags or UserFlags()
    if stats is None:
        stats = issue_stats([issue.pk])[issue.pk]
    if releases is None:
        releases = _release_objects([issue])
    if unhandled is None:
        unhandled = issue.pk in unhandled_issue_ids([issue.pk])
    org_id = project.organization_id
    return {
        "id": str(issue.pk),
        "shortId": issue.short_id_display,
        "title": issue.title,
        "culprit": issue.culprit,
        "permalink": issue_permalink(issue),
        "logger": None,
        "level": issue.level,
        "status": issue.status,
        "substatus": issue.substatus or None,
        "statusDetails": status_details(issue),
        "isPublic": False,
        "platform": issue.platform,
        "project": {
            "id": str(project.pk),
            "name": project.name,
            "slug": project.slug,
            "platform": project.platform,
        },
        "type": issue.type,
        "issueType": "error",
        "issueCategory": "error",
        "metadata": issue.metadata,
        "numComments": num_comments,
        "assignedTo": serialize_assignee(issue),
        "isBookmarked": issue.pk in flags.bookmarked,
        "isSubscribed": issue.pk in flags.subscribed,
        "hasSeen": issue.pk in flags.seen,
        "annotations": [],
        "count": str(issue.times_seen),
        "userCount": issue.user_count,
        "firstSeen": iso(issue.first_seen),
        "lastSeen": iso(issue.last_seen),
        "firstRelease": releases.get((org_id, issue.first_release)),
        "lastRelease": releases.get((org_id, issue.last_release)),
        "stats": stats,
        # Counts over the issue's whole life (Sentry's environment-independent figures).
        "lifetime": {
            "count": str(issue.times_seen),
            "userCount": issue.user_count,
            "firstSeen": iso(issue.first_seen),
            "lastSeen": iso(issue.last_seen),
            "stats": None,
        },
        "priority": issue_priority(issue),
        "priorityLockedAt": None,
        "isUnhandled": unhandled,
    }
