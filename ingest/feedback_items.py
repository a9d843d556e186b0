"""Worker side of user feedback: the legacy `user_report` item (alias `user_feedback`) and the
`feedback` item become user reports (feedback/records.py).

`user_report`: `{event_id, name, email, comments}` about an error event. `feedback`: an event payload
whose `contexts.feedback` holds `{message, contact_email, name, url, associated_event_id}`; it speaks
of its associated event, or, with none, of itself (its own event id, no issue). Like Sentry, a report
without comments or without a valid event id is dropped. Values are scrubbed with the project's
rules (people paste tokens and card numbers into feedback) and cut to Sentry's column sizes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from feedback.models import COMMENTS_MAX, EMAIL_MAX, NAME_MAX
from feedback.records import PreparedReport

from .project_config import ProjectConfig
from .protocol.scrub import scrub_fields
from .record import RecordHeader

HEX = frozenset("0123456789abcdef")


def prepare_user_report(payload: Any, header: RecordHeader, config: ProjectConfig) -> PreparedReport | None:
    if not isinstance(payload, dict):
        return None
    fields = {k: _text(payload.get(k)) for k in ("name", "email", "comments")}
    return _report(_event_id(payload.get("event_id")), fields, header, config)


def prepare_feedback(payload: Any, header: RecordHeader, config: ProjectConfig) -> PreparedReport | None:
    if not isinstance(payload, dict):
        return None
    contexts = payload.get("contexts")
    feedback = contexts.get("feedback") if isinstance(contexts, dict) else None
    if not isinstance(feedback, dict):
        return None
    fields = {
        "name": _text(feedback.get("name")),
        "email": _text(feedback.get("contact_email")),
        "comments": _text(feedback.get("message")),
    }
    associated = feedback.get("associated_event_id")
    own = header.event_id or payload.get("event_id")  # the envelope's id wins, as for events
    event_id = _event_id(associated) if associated else _event_id(own)
    return _report(event_id, fields, header, config)


def _report(
    event_id: str | None, fields: dict[str, str], header: RecordHeader, config: ProjectConfig
) -> PreparedReport | None:
    fields["comments"] = fields["comments"].strip()
    if event_id is None or not fields["comments"]:
        return None
    clean = scrub_fields(fields, config.scrub)
    return PreparedReport(
        event_id=event_id,
        name=_clip(clean["name"], NAME_MAX),
        email=_clip(clean["email"], EMAIL_MAX),
        comments=_clip(clean["comments"], COMMENTS_MAX),
        date_added=datetime.fromtimestamp(header.received, UTC),
    )


def _event_id(value: Any) -> str | None:
    """32 lowercase hex (a UUID with dashes is accepted, as Sentry's uuid.UUID(...).hex does)."""
    if not isinstance(value, str):
        return None
    hexed = value.strip().replace("-", "").lower()
    return hexed if len(hexed) == 32 and set(hexed) <= HEX else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _clip(value: str, limit: int) -> str:
    # PostgreSQL text cannot hold NUL.
    return value.replace("\x00", "\ufffd")[:limit]
