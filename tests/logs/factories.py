"""Log records for database tests, written through the log store as the worker writes them."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction

from logs.records import StoredLog
from logs.store import get_log_store

_counter = itertools.count()
NOW = datetime.now(UTC).replace(microsecond=0)


def log_record(
    project_id: int, body: str = "Order placed", *, seconds_ago: float | None = None, **fields
) -> StoredLog:
    when = NOW - timedelta(seconds=next(_counter) if seconds_ago is None else seconds_ago)
    values: dict[str, Any] = {
        "id": uuid.uuid4().hex,
        "project_id": project_id,
        "timestamp": when,
        "level": "info",
        "severity_number": 9,
        "body": body,
        "trace_id": "",
        "span_id": "",
        "attributes": {},
    }
    values.update(fields)
    return StoredLog(**values)


def store_logs(records: list[StoredLog]) -> set[str]:
    with transaction.atomic():
        return get_log_store().write(records)
