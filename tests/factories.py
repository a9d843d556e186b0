"""Factories for database tests."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

from issues.payload import encode_event_data
from issues.store import PreparedEvent

_counter = itertools.count()
BASE_TIME = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def prepared_event(
    *,
    hashes: list[str] | None = None,
    event_id: str | None = None,
    seconds: int | None = None,
    user: str = "",
    release: str = "1.0",
    level: str = "error",
    tags: list[tuple[str, str]] | None = None,
    title: str = "ValueError: boom",
) -> PreparedEvent:
    when = BASE_TIME + timedelta(seconds=next(_counter) if seconds is None else seconds)
    event_id = event_id or uuid.uuid4().hex
    return PreparedEvent(
        event_id=event_id,
        timestamp=when,
        received=when,
        level=level,
        platform="python",
        type="error",
        title=title,
        culprit="app.views in handler",
        metadata={"type": "ValueError", "value": "boom"},
        release=release,
        environment="production",
        user_key=user,
        trace_id="",
        tags=tags if tags is not None else [("level", level), ("environment", "production")],
        hashes=hashes or ["a" * 32],
        config_id="newstyle:2023-01-11",
        data=encode_event_data({"event_id": event_id, "title": title, "tags": tags or []}),
    )
