"""Celery tasks of ingest. Thin: they move batches from the buffer through processing into storage."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter

from celery import shared_task
from django.conf import settings
from django.db import DataError, IntegrityError, transaction

from alerts.dispatch import batch_committed, record_batch
from core.dispatch import send_task
from core.memory import return_freed_memory
from core.sql import drop_broken_connection
from issues.dictionaries import train_project_dictionary, wants_training
from issues.store import StoreResult, store_attachments, store_events
from issues.user_reports import store_user_reports
from logs.store import get_log_store
from projects.services import record_first_event
from usage.services import expire_counted_markers, first_time, flush_pending, this_hour, write_outcomes

from . import shutdown
from .backoff import Backoff, FailureLog
from .buffer import consumer_name, get_buffer
from .dead_letters import store_isolating
from .processing import ProjectBatch, prepare_entries

log = logging.getLogger(__name__)
DRAIN_BUDGET_SECONDS = 10.0

shutdown.connect_worker_signals()
_backoff = Backoff(first=0.5, longest=5.0)
_failures = FailureLog(log, "draining the ingest buffer")


# One drain at a time per process: threads of the embedded worker draining together would only
# contend for the GIL and SQLite's write lock (and hold two batches in memory); the other thread
# stays free for cleanup and training. Prefork processes each have their own lock.
_draining = threading.Lock()


@shared_task(name="ingest.tasks.drain_ingest_buffer", acks_late=True, ignore_result=True)
def drain_ingest_buffer() -> int:
    """Process buffered envelopes in batches until the buffer is empty or the time budget is spent."""
    done, more = drain_buffer()
    if more and not shutdown.stop_requested():
        send_task("ingest.tasks.drain_ingest_buffer")
    return done


def drain_buffer() -> tuple[int, bool]:
    """One drain: (envelopes stored, whether more wait). Never raises: a failure leaves the batch
    unacknowledged (this worker retries it first), is logged once per kind and interval, and makes
    the next drains of this process wait (0.5 s doubling to 5 s), however often they are kicked."""
    if shutdown.stop_requested() or not _backoff.ready():
        return 0, False
    if not _draining.acquire(blocking=False):
        return 0, False  # this process is draining already
    try:
        with shutdown.draining():
            done, more = _drain()
    except Exception as exc:
        _backoff.failed()
        _failures.failed(exc, _backoff.delay)
        drop_broken_connection()
        return 0, False
    finally:
        _draining.release()
    _backoff.succeeded()
    _failures.recovered()
    return done, more


def reset_drain_state() -> None:
    """Forget backoff, logged failures and a requested stop (tests; a runner that starts again)."""
    _backoff.succeeded()
    _failures.recovered()
    shutdown.reset_stop()


def _drain() -> tuple[int, bool]:
    buffer = get_buffer()
    consumer = consumer_name()
    deadline = time.monotonic() + DRAIN_BUDGET_SECONDS
    done = 0
    # The stop flag is checked between batches only: the batch in hand is stored and acknowledged.
    while time.monotonic() < deadline and not shutdown.stop_requested():
        entries = buffer.take(consumer, settings.INGEST["BATCH_SIZE"])
        if not entries:
            if done:
                _truncate_sqlite_wal()
            _return_freed_memory(after_work=bool(done))
            return done, False
        # Acknowledged only after the batch committed: a crash before that means redelivery, and the
        # idempotent writer makes the second pass a no-op for what was already stored. An entry that
        # fails on its own (not an outage) becomes a dead letter instead of blocking the rest.
        store_isolating(entries, process_payloads, buffer.ack)
        done += len(entries)
    return done, True


_trim = {"last": 0.0, "pending": False}


def _return_freed_memory(after_work: bool) -> None:
    """A batch of parsed events takes tens of MB that glibc keeps mapped after Python frees it;
    handing it back once the buffer is empty keeps an idle worker small (embedded: <= 200 MB).
    At most every 10 s, as the buffer empties many times a second under steady load; a trim put
    off that way happens in a later drain (the scheduler runs one every 2 s)."""
    _trim["pending"] = _trim["pending"] or after_work
    now = time.monotonic()
    if not _trim["pending"] or now - _trim["last"] < 10.0:
        return
    _trim.update(last=now, pending=False)
    return_freed_memory()


def _truncate_sqlite_wal() -> None:
    """The main file's WAL after a drain: kept small, and free of the raw envelopes an older version
    buffered in this file (`migrate` moves them to the buffer's own file, which DatabaseBuffer
    truncates itself)."""
    from django.db import OperationalError, connection

    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except OperationalError:  # readers still busy: the next drain tries again
        log.debug("WAL checkpoint postponed", exc_info=True)


def process_payloads(payloads: list[bytes]) -> list[StoreResult]:
    """Stores a batch. Per project, one transaction holds its events and issues and every fact derived
    from them (usage outcomes, processed-record markers): a batch redelivered after a crash at any
    point finds all of it stored or none of it, so nothing is lost or counted twice."""
    results = []
    hour = this_hour()
    for project_id, batch in sorted(prepare_entries(payloads).items()):  # one lock order for all
        with transaction.atomic():
            result = _store_batch(project_id, batch)
            if result.stored and not batch.has_first_event:
                record_first_event(project_id)
            outcomes = _outcomes(project_id, batch, result, hour)
            outcomes.update(_store_logs(project_id, batch, hour))
            write_outcomes(outcomes)
            alert_facts = record_batch(project_id, result)
        batch_committed(alert_facts)
        _train_dictionary_if_due(project_id, result)
        results.append(result)
    return results


def _outcomes(project_id: int, batch: ProjectBatch, result: StoreResult, hour) -> Counter:
    """Accepted events are what the writer's RETURNING says it inserted; facts per record (client
    reports, attachments) count only for records not processed before (markers, same transaction)."""
    org = batch.organization_id
    outcomes: Counter = Counter({(org, project_id, hour, "error", "accepted", ""): result.stored})
    for facts in _first_time_facts(batch.record_facts):
        for (category, outcome, reason), quantity in facts.items():
            outcomes[(org, project_id, hour, category, outcome, reason)] += quantity
    return outcomes


def _store_logs(project_id: int, batch: ProjectBatch, hour, attempts: int = 2) -> Counter:
    """Log records in a savepoint of the batch's transaction; the outcomes count the records the
    store says were new (`log_item`) and their bytes as sent (`log_byte`), so a redelivered batch
    counts nothing twice."""
    if not batch.logs:
        return Counter()
    try:
        with transaction.atomic():
            new = get_log_store().write(batch.logs)
    except IntegrityError:
        if attempts > 1:  # another worker created the same day partition meanwhile
            return _store_logs(project_id, batch, hour, attempts - 1)
        raise
    except DataError:
        log.exception("dropped %d log records the database refused (project %s)", len(batch.logs), project_id)
        return Counter()
    org = batch.organization_id
    size = sum(record.size for record in batch.logs if record.id in new)
    return Counter(
        {
            (org, project_id, hour, "log_item", "accepted", ""): len(new),
            (org, project_id, hour, "log_byte", "accepted", ""): size,
        }
    )


def _first_time_facts(record_facts: list[tuple[str | None, Counter]]) -> list[Counter]:
    fresh = first_time(record_id for record_id, _ in record_facts if record_id)
    counted = []
    for record_id, facts in record_facts:
        if record_id is None or record_id in fresh:  # records buffered before ids existed: counted
            fresh.discard(record_id)
            counted.append(facts)
    return counted


def _train_dictionary_if_due(project_id: int, result: StoreResult) -> None:
    if settings.PAYLOAD_DICTIONARY["ENABLED"] and wants_training(project_id, result.stored):
        # Right here (a fraction of a second, once per project): queued behind busy drain tasks,
        # a training task could wait long enough for thousands of events to miss the dictionary.
        try:
            train_project_dictionary(project_id)
        except Exception:  # only compression is at stake, never the stored batch
            log.warning("payload dictionary training failed for project %s", project_id, exc_info=True)


@shared_task(name="ingest.tasks.flush_outcomes", ignore_result=True)
def flush_outcomes() -> int:
    return flush_pending()


@shared_task(name="ingest.tasks.expire_quota_counters", ignore_result=True)
def expire_quota_counters() -> int:
    """Expired quota counters, and counted-record markers older than any record can still be
    redelivered (the scheduler runs this every 5 minutes)."""
    from .models import QuotaCounter

    deleted, _ = QuotaCounter.objects.filter(expires_at__lt=time.time()).delete()
    return deleted + expire_counted_markers()


def _store_batch(project_id: int, batch: ProjectBatch, attempts: int = 2) -> StoreResult:
    rows = [(a.event_id, a.name, a.content_type, a.attachment_type, a.data) for a in batch.attachments]
    try:
        # A savepoint inside the batch's transaction: a refused write is retried without losing it.
        with transaction.atomic():
            result = store_events(project_id, batch.events)
            store_attachments(project_id, rows)
            # After the events: feedback on an event of this very batch gets its issue at once.
            store_user_reports(project_id, batch.reports)
        return result
    except IntegrityError:
        if attempts > 1:
            # Most likely an issue merged away while this batch was being written: look hashes up again.
            return _store_batch(project_id, batch, attempts - 1)
        return _store_one_by_one(project_id, batch, rows)
    except DataError:
        return _store_one_by_one(project_id, batch, rows)


def _store_one_by_one(project_id: int, batch: ProjectBatch, rows: list) -> StoreResult:
    """Content the database refuses. (Connection-level errors propagate instead: the batch then stays
    unacknowledged in the buffer and is redelivered once the database is back.)"""
    if len(batch.events) <= 1 and not rows and not batch.reports:
        log.exception("dropped an event the database refused (project %s)", project_id)
        return StoreResult()
    # One event the database refuses must not hold back the rest: store them one at a time.
    log.warning(
        "batch of project %s failed; retrying its %d events one by one", project_id, len(batch.events)
    )
    merged = StoreResult()
    for event in batch.events:
        one = _store_batch(project_id, ProjectBatch(events=[event]))
        merged.stored += one.stored
        merged.new_issue_ids += one.new_issue_ids
        merged.regressed_issue_ids += one.regressed_issue_ids
        merged.unignored_issue_ids += one.unignored_issue_ids
        for issue_id, stored in one.events_by_issue.items():
            merged.events_by_issue.setdefault(issue_id, []).extend(stored)
    for row in rows:
        try:
            with transaction.atomic():
                store_attachments(project_id, [row])
        except (DataError, IntegrityError):
            log.exception("dropped an attachment the database refused (project %s)", project_id)
    for report in batch.reports:
        try:
            with transaction.atomic():
                store_user_reports(project_id, [report])
        except (DataError, IntegrityError):
            log.exception("dropped a user report the database refused (project %s)", project_id)
    return merged
