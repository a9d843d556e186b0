"""What the UI and the issue row show of an event: title, culprit, metadata, tags, user identity.

Pure functions over the normalized event (ingest/protocol/normalize.py); no Django import.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

TITLE_MAX = 255
CULPRIT_MAX = 200
TAG_MAX = 200


def _exceptions(event: dict[str, Any]) -> list[dict[str, Any]]:
    exc = event.get("exception")
    values = exc.get("values") if isinstance(exc, dict) else None
    return [v for v in values or () if isinstance(v, dict)]


def _frames(exc: dict[str, Any]) -> list[dict[str, Any]]:
    st = exc.get("stacktrace")
    frames = st.get("frames") if isinstance(st, dict) else None
    return [f for f in frames or () if isinstance(f, dict)]


def _first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0].strip()


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def message_text(event: dict[str, Any]) -> str:
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        text = logentry.get("formatted") or logentry.get("message")
        if isinstance(text, str):
            return text
    return ""


def main_exception(event: dict[str, Any]) -> dict[str, Any] | None:
    """The exception that was finally raised: the last one of the chain (protocol §9)."""
    excs = _exceptions(event)
    return excs[-1] if excs else None


def crash_frame(event: dict[str, Any]) -> dict[str, Any] | None:
    """The innermost in-app frame of the main exception, else its innermost frame."""
    exc = main_exception(event)
    frames = _frames(exc) if exc else []
    for frame in reversed(frames):
        if frame.get("in_app"):
            return frame
    return frames[-1] if frames else None


def compute_metadata(event: dict[str, Any]) -> dict[str, Any]:
    exc = main_exception(event)
    if exc is not None:
        synthetic = bool((exc.get("mechanism") or {}).get("synthetic"))
        exc_type = None if synthetic else exc.get("type")
        value = exc.get("value") or ""
        meta: dict[str, Any] = {"type": exc_type or "", "value": _truncate(_first_line(str(value)), 1024)}
        frame = crash_frame(event)
        if frame:
            meta["filename"] = frame.get("filename") or frame.get("abs_path") or ""
            meta["function"] = frame.get("function") or ""
        if exc_type:
            return meta
        # Node 11 captureMessage sends a type-less synthetic exception: present it as a message.
        return {"title": _first_line(message_text(event) or str(value)) or "<unlabeled event>", **meta}
    return {"title": _first_line(message_text(event)) or "<unlabeled event>"}


def compute_title(event: dict[str, Any], metadata: dict[str, Any]) -> str:
    if metadata.get("type"):
        value = metadata.get("value")
        title = f"{metadata['type']}: {value}" if value else str(metadata["type"])
    else:
        title = metadata.get("title") or metadata.get("value") or "<unlabeled event>"
    return _truncate(str(title), TITLE_MAX)


def compute_culprit(event: dict[str, Any]) -> str:
    frame = crash_frame(event)
    if frame:
        where = frame.get("module") or frame.get("filename") or frame.get("abs_path") or "?"
        function = frame.get("function")
        culprit = f"{where} in {function}" if function else str(where)
    else:
        culprit = str(event.get("transaction") or event.get("logger") or "")
    return _truncate(culprit, CULPRIT_MAX)


def user_identity(event: dict[str, Any]) -> str:
    """A stable key for "distinct users affected": id, else email, username, then IP address."""
    user = event.get("user")
    if not isinstance(user, dict):
        return ""
    for field in ("id", "email", "username", "ip_address"):
        value = user.get(field)
        if value not in (None, ""):
            return hashlib.sha1(f"{field}:{value}".encode()).hexdigest()
    return ""


def user_tag(event: dict[str, Any]) -> str | None:
    user = event.get("user")
    if not isinstance(user, dict):
        return None
    for field in ("id", "email", "username", "ip_address"):
        value = user.get(field)
        if value not in (None, ""):
            return f"{field.replace('_address', '')}:{value}"
    return None


# Sentry's EventUser sizes (ip: the longest text form of an IPv6 address with an IPv4 tail).
USER_COLUMNS = {"id": ("ident", 128), "email": ("email", 75), "username": ("username", 128)}
USER_COLUMNS |= {"ip_address": ("ip_address", 45)}


def user_identifiers(event: dict[str, Any]) -> tuple[str | None, str | None, str | None, str | None]:
    """Every identifier of the event's user (the `user` tag holds only the best one): id, email,
    username, IP address, each cut to its IssueUser column; None when not sent."""
    user = event.get("user")
    found: list[str | None] = [None, None, None, None]
    if isinstance(user, dict):
        for n, (field, (_, limit)) in enumerate(USER_COLUMNS.items()):
            value = user.get(field)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value) != "":
                found[n] = clip_identifier(str(value), limit)
    return found[0], found[1], found[2], found[3]


def clip_identifier(value: str, limit: int) -> str:
    # PostgreSQL text cannot hold NUL; a search value is cut the same way, so it still matches.
    return value.replace("\x00", "\ufffd")[:limit]


def user_key_of_tag(value: str) -> str | None:
    """The IssueUser key of a `user` tag value (`id:42`, `ip:10.0.0.1`), or None for a value cut at
    TAG_MAX or not in that form (an SDK's own `user` tag)."""
    field, sep, identifier = value.partition(":")
    field = "ip_address" if field == "ip" else field
    if not sep or field not in USER_COLUMNS or len(value) >= TAG_MAX:
        return None
    return hashlib.sha1(f"{field}:{identifier}".encode()).hexdigest()


def _context_tag(event: dict[str, Any], name: str) -> str | None:
    ctx = (event.get("contexts") or {}).get(name)
    if not isinstance(ctx, dict) or not ctx.get("name"):
        return None
    version = ctx.get("version")
    return f"{ctx['name']} {version}" if version else str(ctx["name"])


def compute_tags(event: dict[str, Any]) -> list[tuple[str, str]]:
    """The event's own tags plus the ones Sentry derives from well-known fields, de-duplicated."""
    derived: dict[str, Any] = {
        "level": event.get("level"),
        "environment": event.get("environment"),
        "release": event.get("release"),
        "dist": event.get("dist"),
        "server_name": event.get("server_name"),
        "transaction": event.get("transaction"),
        "logger": event.get("logger"),
        "user": user_tag(event),
        "runtime": _context_tag(event, "runtime"),
        "browser": _context_tag(event, "browser"),
        "os": _context_tag(event, "os"),
    }
    request = event.get("request")
    if isinstance(request, dict) and isinstance(request.get("url"), str):
        derived["url"] = request["url"]
    exc = main_exception(event)
    mechanism = exc.get("mechanism") if exc else None
    if isinstance(mechanism, dict):
        derived["mechanism"] = mechanism.get("type")
        if isinstance(mechanism.get("handled"), bool):
            derived["handled"] = "yes" if mechanism["handled"] else "no"
    tags: dict[str, str] = {}
    for key, value in event.get("tags") or ():
        tags.setdefault(str(key)[:TAG_MAX], str(value)[:TAG_MAX])
    for key, value in derived.items():
        if value not in (None, ""):
            tags.setdefault(key, str(value)[:TAG_MAX])
    return list(tags.items())


# What each processing error type means, in words (the types are Relay's / Sentry's EventError).
_PROBLEMS = {
    "invalid_data": "invalid value",
    "invalid_attribute": "unknown attribute",
    "missing_attribute": "missing value",
    "value_too_long": "value too long",
    "future_timestamp": "timestamp in the future",
    "past_timestamp": "timestamp too old",
    "clock_drift": "clock drift corrected",
    # Source maps (sourcemaps/frames.py), Sentry's event error types.
    "js_no_source": "source map not applied",
    "js_invalid_source": "invalid source map",
    "js_no_column": "frame not mapped: no column",
}
_PROBLEM_VALUE_MAX = 200


def processing_errors(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The event's ``errors`` in the shape of Sentry's event API: ``{"type", "message", "data"}``."""
    errors = event.get("errors")
    result = []
    for error in errors if isinstance(errors, list) else ():
        if not isinstance(error, dict):
            continue
        kind = str(error.get("type") or "unknown_error")
        data = {key: value for key, value in error.items() if key != "type"}
        result.append({"type": kind, "message": _PROBLEMS.get(kind, "processing error"), "data": data})
    return result


def problem_text(error: dict[str, Any]) -> str:
    """One API error as a sentence: ``invalid value for user: "bob"``."""
    data = error.get("data") or {}
    text = str(error.get("message") or "processing error")
    if data.get("name"):
        text += f" for {data['name']}"
    if data.get("url"):
        text += f" for {data['url']}"
    for detail in ("attribute", "reason"):
        if data.get(detail):
            text += f" ({data[detail]})"
    if "value" in data:
        text += ": " + _truncate(
            json.dumps(data["value"], ensure_ascii=False, default=str), _PROBLEM_VALUE_MAX
        )
    return text


# Sentry's headings for well-known contexts; any other context is shown under its own name.
_CONTEXT_TITLES = {
    "os": "Operating System",
    "client_os": "Client Operating System",
    "runtime": "Runtime",
    "browser": "Browser",
    "device": "Device",
    "app": "App",
    "gpu": "GPU",
    "culture": "Culture",
    "cloud_resource": "Cloud Resource",
    "trace": "Trace Details",
    "response": "Response",
    "state": "Application State",
    "feedback": "Feedback",
}


def context_tables(contexts: Any) -> list[dict[str, Any]]:
    """Each context as a heading and (field, text, nested) rows for a key/value table: the `type`
    field names the context and is left out; nested values are indented JSON."""
    tables = []
    for name, context in (contexts or {}).items() if isinstance(contexts, dict) else ():
        if not isinstance(context, dict):
            context = {"value": context}
        rows = [
            (
                str(field),
                value if isinstance(value, str) else json.dumps(value, indent=2, default=str),
                isinstance(value, dict | list),
            )
            for field, value in context.items()
            if field != "type"
        ]
        tables.append({"name": str(name), "title": _CONTEXT_TITLES.get(str(name), str(name)), "rows": rows})
    return tables
