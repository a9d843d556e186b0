"""Sentry's API shapes for issues and events (camelCase field names, counts as strings)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.urls import reverse

from feedback.models import UserReport
from feedback.serializers import report_counts, reports_of_events, serialize_report
from releases.models import Release
from releases.serializers import serialize_release, serialize_releases

from .buckets import issue_stats
from .eventinfo import crash_frame, processing_errors
from .inbox import entries as inbox_entries
from .models import Activity, Event, Issue, IssueInbox, IssueResolution, IssueSnooze, IssueTag
from .participation import UserFlags, participants, seen_by, user_flags
from .payload import decode_event_data
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


def serialize_event_summary(event: Event, data: dict[str, Any] | None = None) -> dict[str, Any]:
    data = data if data is not None else decode_event_data(event.data)
    return {
        "id": event.event_id,
        "eventID": event.event_id,
        "groupID": str(event.issue_id),
        "projectID": str(event.project_id),
        "title": event.title,
        "message": _message(data),
        "platform": event.platform,
        "dateCreated": iso(event.timestamp),
        "dateReceived": iso(event.received),
        "event.type": data.get("type", "error"),
        "type": data.get("type") or "error",
        "location": _location(data),
        "culprit": data.get("culprit") or "",
        "tags": [{"key": k, "value": v} for k, v in data.get("tags") or ()],
        "user": data.get("user"),
    }


def serialize_event(
    event: Event,
    previous_id: str | None = None,
    next_id: str | None = None,
    reports: dict[str, UserReport] | None = None,
) -> dict[str, Any]:
    """`reports`: the user reports of a page of events (event_reports); without it, one query."""
    data = decode_event_data(event.data)
    if reports is None:
        reports = reports_of_events(event.project_id, [event.event_id])
    report = reports.get(event.event_id)
    grouping = data.get("_grouping") or {}
    return {
        **serialize_event_summary(event, data),
        "entries": event_entries(data),
        "contexts": data.get("contexts") or {},
        "context": data.get("extra") or {},
        "sdk": data.get("sdk"),
        # Detail views give the whole release instead (serialize_event_detail).
        "release": {"version": event.release, "shortVersion": event.release} if event.release else None,
        "packages": data.get("modules") if isinstance(data.get("modules"), dict) else {},
        "userReport": serialize_report(report) if report else None,
        "dist": data.get("dist"),
        "environment": data.get("environment"),
        "fingerprints": grouping.get("hashes", []),
        "groupingConfig": {"id": grouping.get("config_id")},
        "errors": processing_errors(data),
        "metadata": data.get("metadata") if isinstance(data.get("metadata"), dict) else {},
        "crashFile": None,
        "sdkUpdates": [],
        "occurrence": None,
        "size": len(event.data),
        "previousEventID": previous_id,
        "nextEventID": next_id,
        "_meta": data.get("_meta") or {},
    }


def event_reports(events: list[Event]) -> dict[str, UserReport]:
    """The user reports of a page of events (one project's or one issue's): one query."""
    if not events:
        return {}
    return reports_of_events(events[0].project_id, [e.event_id for e in events])


def serialize_event_detail(
    event: Event, organization_id: int, previous_id: str | None, next_id: str | None
) -> dict[str, Any]:
    """One event as Sentry's detail endpoints give it: with the whole release object."""
    data = serialize_event(event, previous_id, next_id)
    if event.release:
        release = Release.objects.filter(organization_id=organization_id, version=event.release).first()
        if release is not None:
            data["release"] = serialize_release(release)
    return data


def _location(data: dict[str, Any]) -> str | None:
    """Where it happened, as Sentry's event list shows it: the crash frame's file."""
    frame = crash_frame(data)
    return (frame.get("filename") or frame.get("abs_path")) if frame else None


def _message(data: dict[str, Any]) -> str:
    logentry = data.get("logentry") or {}
    return logentry.get("formatted") or logentry.get("message") or ""


def event_entries(data: dict[str, Any]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    if data.get("exception"):
        values = [_exception(v) for v in (data["exception"].get("values") or [])]
        has_system = any(
            not f.get("inApp") for v in values for f in (v.get("stacktrace") or {}).get("frames", [])
        )
        entries.append({"type": "exception", "data": {"values": values, "hasSystemFrames": has_system}})
    if data.get("logentry"):
        entries.append({"type": "message", "data": data["logentry"]})
    if data.get("breadcrumbs"):
        entries.append({"type": "breadcrumbs", "data": data["breadcrumbs"]})
    if data.get("request"):
        entries.append({"type": "request", "data": data["request"]})
    if data.get("threads"):
        entries.append({"type": "threads", "data": data["threads"]})
    return entries


def _exception(value: dict[str, Any]) -> dict[str, Any]:
    stacktrace = value.get("stacktrace")
    frames = [_frame(f) for f in (stacktrace or {}).get("frames") or []]
    # The frames as the SDK sent them, when processing (source maps) rewrote them.
    raw = value.get("raw_stacktrace")
    raw_frames = [_frame(f) for f in (raw or {}).get("frames") or []]
    return {
        "type": value.get("type"),
        "value": value.get("value"),
        "module": value.get("module"),
        "mechanism": value.get("mechanism"),
        "threadId": value.get("thread_id"),
        "stacktrace": {"frames": frames, "framesOmitted": None, "registers": None} if stacktrace else None,
        "rawStacktrace": {"frames": raw_frames, "framesOmitted": None, "registers": None} if raw else None,
    }


def _frame(frame: dict[str, Any]) -> dict[str, Any]:
    lineno = frame.get("lineno")
    context: list[list[Any]] = []
    if isinstance(lineno, int) and frame.get("context_line") is not None:
        pre = frame.get("pre_context") or []
        post = frame.get("post_context") or []
        context = [[lineno - len(pre) + i, line] for i, line in enumerate(pre)]
        context.append([lineno, frame.get("context_line")])
        context += [[lineno + 1 + i, line] for i, line in enumerate(post)]
    return {
        "filename": frame.get("filename"),
        "absPath": frame.get("abs_path"),
        "module": frame.get("module"),
        "package": frame.get("package"),
        "platform": frame.get("platform"),
        "function": frame.get("function"),
        "rawFunction": frame.get("raw_function"),
        "lineNo": lineno,
        "colNo": frame.get("colno"),
        "inApp": bool(frame.get("in_app")),
        "context": context,
        "vars": frame.get("vars"),
        "instructionAddr": frame.get("instruction_addr"),
        "symbolAddr": frame.get("symbol_addr"),
        "trust": frame.get("trust"),
        "data": frame.get("data") or {},
        "errors": None,
    }
