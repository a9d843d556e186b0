"""Worker side of the `log` envelope item: records checked, scrubbed and shaped for the log store.

The endpoint only checked that the item's JSON is a container and named the records it cannot
store; here every record is typed (ingest/protocol/logs.py), scrubbed like an event (body,
template, parameters and every attribute) and given an id derived from the buffered record, so a
redelivered envelope stores nothing twice.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from logs.records import StoredLog
from logs.services import retention_days

from .project_config import ProjectConfig
from .protocol.logs import container_records, flatten, record_problem, typed_record
from .protocol.scrub import scrub_log
from .record import RecordHeader


def prepare_logs(
    payload: Any, header: RecordHeader, config: ProjectConfig, item_number: int, item_bytes: int
) -> list[StoredLog]:
    raws, _ = container_records(payload)
    # `log_byte` counts each record's share of the item as sent (serializing each record again
    # would cost more than storing it).
    share = item_bytes // max(1, len(raws))
    oldest = header.received - timedelta(days=retention_days(config.project_id)).total_seconds()
    prepared = []
    for number, raw in enumerate(raws):
        if record_problem(raw) is not None:
            continue  # named in the endpoint's 400; the records beside it are kept
        typed = typed_record(raw, header.received)
        if typed["timestamp"] < oldest:
            continue  # past the project's retention already: it would be deleted at once
        scrub_log(typed, config.scrub)
        typed.pop("_meta", None)
        record = flatten(typed)
        prepared.append(
            StoredLog(
                id=_record_id(header, item_number, number, raw),
                project_id=config.project_id,
                timestamp=datetime.fromtimestamp(record.timestamp, UTC),
                level=record.level,
                severity_number=record.severity_number,
                body=record.body,
                trace_id=record.trace_id,
                span_id=record.span_id,
                attributes=dict(record.attributes),
                size=share,
            )
        )
    return prepared


def _record_id(header: RecordHeader, item_number: int, number: int, raw: dict) -> str:
    # The buffered record's random id names this delivery; records buffered before ids existed fall
    # back to their own content and arrival time (the same on a redelivery).
    source = (
        header.record_id or f"{header.project_id}:{header.received}:{raw.get('body')}:{raw.get('timestamp')}"
    )
    return hashlib.blake2b(f"{source}:{item_number}:{number}".encode(), digest_size=16).hexdigest()
