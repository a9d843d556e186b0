"""Sentry's API shapes for events (camelCase field names): the summary of an event list, the full
event object with its entries, and the user report each event has (issues/serializers.py has the
issue objects)."""

from __future__ import annotations

from typing import Any

from feedback.models import UserReport
from feedback.serializers import reports_of_events, serialize_report
from releases.models import Release
from releases.serializers import serialize_release

from .eventinfo import crash_frame, processing_errors
from .models import Event
from .payload import decode_event_data
from .serializers import iso


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
