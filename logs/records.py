"""What the log store holds and is asked: one stored record, one query. Plain data, no database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .query.attributes import AttributeValue, attribute_type
from .query.parser import Term

__all__ = ["AttributeValue", "LogQuery", "StoredLog", "attribute_type"]


@dataclass
class StoredLog:
    id: str  # 32 hex, derived from the buffered record and the record's place in it (idempotent)
    project_id: int
    timestamp: datetime  # UTC, microseconds
    level: str
    severity_number: int
    body: str
    trace_id: str  # 32 hex or ""
    span_id: str  # 16 hex or ""
    # Typed by their Python type: str string, int integer, float double, bool boolean.
    attributes: dict[str, AttributeValue] = field(default_factory=dict)
    # Bytes of the record as the SDK sent it: what the `log_byte` outcome counts (not stored).
    size: int = 0


@dataclass(frozen=True)
class LogQuery:
    project_ids: tuple[int, ...]
    start: datetime
    end: datetime
    terms: tuple[Term, ...] = ()
    # Keyset cursor: records strictly older than this (timestamp, id) in the store's order.
    before: tuple[datetime, str] | None = None
    # Live tail: records strictly newer than this (timestamp, id); the oldest of them first in
    # line for the limit (so a poll never skips one), still answered newest first.
    after: tuple[datetime, str] | None = None
