"""Recording outcomes. Accepted data is counted by the workers inside their batch's transaction;
what ingest drops is counted in Redis first (a 429 must stay cheap under a flood) and flushed to the
table in bulk. Whatever may be counted twice (a redelivered record, a flush retried after a crash)
carries an id, marked counted in the same transaction as its counts (first_time)."""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime
from datetime import time as clock

from django.conf import settings
from django.db import transaction

from core.sql import insert_rows

log = logging.getLogger(__name__)

OutcomeKey = tuple[int, int, datetime, str, str, str]  # org, project, hour, category, outcome, reason
_UPSERT = "quantity = usage_outcome.quantity + excluded.quantity"
_COLUMNS = ["organization_id", "project_id", "hour", "category", "outcome", "reason", "quantity"]
_CONFLICT = ["organization_id", "project_id", "hour", "category", "outcome", "reason"]


def this_hour() -> datetime:
    """The start of the current UTC hour: the bucket outcomes are counted in."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def _parse_hour(text: str) -> datetime:
    """An hour as flush keys hold it; a bare date is a count Redis kept from before hours (00:00)."""
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), clock(), tzinfo=UTC)
    return datetime.fromisoformat(text)


def write_outcomes(counts: Counter[OutcomeKey]) -> None:
    rows = [(*key, quantity) for key, quantity in sorted(counts.items()) if quantity]
    insert_rows("usage_outcome", _COLUMNS, rows, conflict=_CONFLICT, update_sql=_UPSERT)


# Markers outlive any redelivery: a record comes back within minutes, or when a worker returns.
COUNTED_MARKER_DAYS = 7


def first_time(ids: Iterable[str]) -> set[str]:
    """Marks ids as counted and returns those that were not before. Call it inside the transaction
    that writes their counts: the marker and the counts commit together or not at all."""
    rows = [(i, time.time()) for i in sorted(set(ids))]
    inserted = insert_rows(
        "usage_countedrecord", ["id", "counted_at"], rows, conflict=["id"], returning=["id"]
    )
    return {row[0] for row in inserted}


def expire_counted_markers() -> int:
    from .models import CountedRecord

    old = time.time() - COUNTED_MARKER_DAYS * 86400
    deleted, _ = CountedRecord.objects.filter(counted_at__lt=old).delete()
    return deleted


def _pending_key() -> str:
    return f"{settings.REDIS_KEY_PREFIX}:outcomes:pending"


def record_dropped(
    org_id: int, project_id: int, category: str, outcome: str, reason: str, quantity: int
) -> None:
    key: OutcomeKey = (org_id, project_id, this_hour(), category, outcome, reason)
    try:
        if settings.REDIS_URL:
            from core.redis_client import get_redis

            field = "|".join(part.isoformat() if isinstance(part, datetime) else str(part) for part in key)
            get_redis().hincrby(_pending_key(), field, quantity)
        else:
            write_outcomes(Counter({key: quantity}))
    except Exception:  # statistics must never turn a 429 into a 500
        log.warning("could not record a dropped-data outcome", exc_info=True)


def flush_pending() -> int:
    """Moves the counts ingest kept in Redis into the table. Safe with several schedulers: RENAME is atomic."""
    if not settings.REDIS_URL:
        return 0
    from core.redis_client import get_redis

    client = get_redis()
    batch_key = f"{_pending_key()}:flushing"
    if not client.exists(batch_key):
        try:
            client.rename(_pending_key(), batch_key)
        except Exception:  # nothing pending
            return 0
    # The batch's id survives a crash between writing and deleting it: a retried flush adds nothing.
    client.hsetnx(batch_key, _BATCH_ID, os.urandom(16).hex())
    fields = client.hgetall(batch_key)
    batch_id = fields.pop(_BATCH_ID.encode()).decode()
    counts: Counter[OutcomeKey] = Counter()
    for field, value in fields.items():
        org, project, hour, category, outcome, reason = field.decode().split("|", 5)
        counts[(int(org), int(project), _parse_hour(hour), category, outcome, reason)] += int(value)
    with transaction.atomic():
        if first_time([batch_id]):
            write_outcomes(counts)
    client.delete(batch_key)
    return sum(counts.values())


_BATCH_ID = "_batch_id"  # a field name no outcome key can take (those hold five "|")
