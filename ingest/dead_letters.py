"""Poisoned buffer entries: one envelope that cannot be stored must not stop ingest behind it.

A batch that fails with an outage (database or Redis unreachable) stays in the buffer and is retried
with the drain's backoff, as before. A batch that fails with any other error (a bug, a value the
database refuses) is split in halves until the entries that fail on their own are found: the others
are stored and acknowledged, and each culprit is kept raw in the DeadLetter table, then acknowledged.
`manage.py requeue_dead_letters` puts them back into the buffer once the cause is fixed; the writer
is idempotent, so what was stored already is not stored twice.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

from django.db import InterfaceError, OperationalError, transaction

from .buffer import BufferEntry, get_buffer
from .models import DeadLetter
from .record import decode_record

log = logging.getLogger(__name__)

# PostgreSQL SQLSTATE classes of errors that pass: connection (08), deadlock and serialization (40),
# resources such as a full disk (53), shutdown or cancel (57), system (58). Single codes: a read-only
# transaction (25006, a failover), and a table, column, function or object that is missing or not
# granted (42P01, 42703, 42883, 42704, 42501): the schema, not the content, so code upgraded before
# `migrate` does not turn every envelope into a dead letter. Everything else (54000: a row over the
# index limit, 22: bad data, 42804: a type mismatch a value caused...) follows the entry.
_TRANSIENT_SQLSTATE_CLASSES = {"08", "40", "53", "57", "58"}
_TRANSIENT_SQLSTATES = {"25006", "42P01", "42703", "42883", "42704", "42501"}


def is_transient(exc: BaseException) -> bool:
    """Whether retrying the same batch later may succeed: an outage, not the content."""
    import redis

    if isinstance(exc, redis.ConnectionError | redis.TimeoutError | ConnectionError | TimeoutError):
        return True
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    if sqlstate:  # PostgreSQL says what it was
        return sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES or sqlstate in _TRANSIENT_SQLSTATES
    return isinstance(exc, OperationalError | InterfaceError)  # no server code: SQLite, a lost link


def store_isolating(
    entries: list[BufferEntry], store: Callable[[list[bytes]], object], ack: Callable[[list[str]], None]
) -> None:
    """Stores the entries and acknowledges them; on an error that is not an outage, bisects: stored
    halves are acknowledged, an entry failing alone becomes a dead letter. Outages propagate, leaving
    what is not acknowledged yet in the buffer."""
    try:
        store([e.payload for e in entries])
    except Exception as exc:
        if is_transient(exc):
            raise
        if len(entries) == 1:
            keep(entries[0].payload, exc)
        else:
            middle = len(entries) // 2
            store_isolating(entries[:middle], store, ack)
            store_isolating(entries[middle:], store, ack)
            return
    ack([e.id for e in entries])


def keep(payload: bytes, exc: BaseException) -> None:
    """The dead letter, in a transaction of its own; one log line (the traceback is in the row)."""
    error = f"{type(exc).__name__}: {str(exc).strip()}"[:500]
    trace = "".join(traceback.format_exception(exc))[-8000:]
    with transaction.atomic():
        letter = DeadLetter.objects.create(
            payload=payload, project_id=_project_of(payload), error=error, traceback=trace
        )
    log.error("kept a buffered envelope that cannot be stored as dead letter %s: %s", letter.id, error)


def _project_of(payload: bytes) -> int | None:
    try:
        return decode_record(payload)[0].project_id
    except Exception:  # the record itself may be what is broken
        return None


def count() -> int:
    return DeadLetter.objects.count()


def requeue(ids: list[int] | None = None) -> int:
    """Puts dead letters back into the buffer (all, or those ids), oldest first; returns how many.
    Each is deleted after it is in the buffer: a crash between the two re-feeds it twice, which the
    idempotent writer absorbs."""
    letters = DeadLetter.objects.order_by("id")
    if ids is not None:
        letters = letters.filter(id__in=ids)
    buffer = get_buffer()
    done = 0
    for letter in letters.iterator(chunk_size=100):
        buffer.put(bytes(letter.payload))
        DeadLetter.objects.filter(id=letter.id).delete()
        done += 1
    return done
