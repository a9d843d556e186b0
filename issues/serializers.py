"""Sentry's API shapes for issues and events (camelCase field names, counts as strings)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from .buckets import issue_stats
from .eventinfo import processing_errors
from .models import Event, Issue
from .payload import decode_event_data


def iso(dt) -> str | None:
    return dt.isoformat().replace("+00:00", "Z") if dt else None


def issue_permalink(issue: Issue) -> str:
    org = issue.project.organization.slug
    return settings.LIGHTTRACE_URL + reverse("issue-detail", args=[org, issue.project.slug, issue.pk])


def serialize_issue(issue: Issue, stats: dict[str, list] | None = None) -> dict[str, Any]:
    """`stats`: this issue's entry of buckets.issue_stats (lists pass the whole page's, fetched in
    one query); without it, one query for this issue."""
    project = issue.project
    if stats is None:
        stats = issue_stats([issue.pk])[issue.pk]
    return {
        "id": str(issue.pk),
        "shortId": issue.short_id_display,
        "title": issue.title,
        "culprit": issue.culprit,
        "permalink": issue_permalink(issue),
        "logger": None,
        "level": issue.level,
        "status": issue.status,
        "substatus": issue.substatus,
        "statusDetails": {},
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
        "numComments": 0,
        "assignedTo": None,
        "isBookmarked": False,
        "isSubscribed": False,
        "hasSeen": False,
        "annotations": [],
        "count": str(issue.times_seen),
        "userCount": issue.user_count,
        "firstSeen": iso(issue.first_seen),
        "lastSeen": iso(issue.last_seen),
        "firstRelease": issue.first_release or None,
        "lastRelease": issue.last_release or None,
        "stats": stats,
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
        "culprit": data.get("culprit") or "",
        "tags": [{"key": k, "value": v} for k, v in data.get("tags") or ()],
        "user": data.get("user"),
    }


def serialize_event(
    event: Event, previous_id: str | None = None, next_id: str | None = None
) -> dict[str, Any]:
    data = decode_event_data(event.data)
    grouping = data.get("_grouping") or {}
    return {
        **serialize_event_summary(event, data),
        "entries": event_entries(data),
        "contexts": data.get("contexts") or {},
        "context": data.get("extra") or {},
        "sdk": data.get("sdk"),
        "release": {"version": event.release} if event.release else None,
        "dist": data.get("dist"),
        "environment": data.get("environment"),
        "fingerprints": grouping.get("hashes", []),
        "groupingConfig": {"id": grouping.get("config_id")},
        "errors": processing_errors(data),
        "metadata": {},
        "size": len(event.data),
        "previousEventID": previous_id,
        "nextEventID": next_id,
        "_meta": data.get("_meta") or {},
    }


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
    return {
        "type": value.get("type"),
        "value": value.get("value"),
        "module": value.get("module"),
        "mechanism": value.get("mechanism"),
        "threadId": value.get("thread_id"),
        "stacktrace": {"frames": frames, "framesOmitted": None, "registers": None} if stacktrace else None,
        "rawStacktrace": None,
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
        "errors": None,
    }
