"""Database outages and crashes on PostgreSQL + Redis: nothing answered 200 waits for the reclaim
timeout, nothing is counted twice or lost, and a failing worker neither floods the log nor the
database. Outages are real: Django's connection goes through a TCP proxy that the test cuts."""

import logging
import os
import subprocess
import threading
import time
import uuid

import pytest
from django.db import DatabaseError, connection

from ingest.buffer import DatabaseBuffer, RedisStreamBuffer, consumer_name, this_host
from ingest.record import RecordHeader, decode_record, encode_record
from ingest.tasks import drain_ingest_buffer, expire_quota_counters, process_payloads
from issues.models import Event, Issue
from tests.conftest import FIXTURE_KEY, make_event_envelope, post_envelope
from usage.models import Outcome


def _send(client, project, n: int) -> None:
    for _ in range(n):
        body = make_event_envelope({"message": "outage"}, uuid.uuid4().hex)
        assert post_envelope(client, project.id, body).status_code == 200


def _pending(buffer) -> int:
    return buffer.client.xpending(buffer.stream, buffer.group)["pending"]


@pytest.mark.postgresql  # through a TCP proxy to PostgreSQL
def test_a_batch_that_failed_while_the_database_was_down_is_retried_within_seconds(
    database_proxy, make_project, client, drain, clean_buffer
):
    project, _ = make_project(public_key=FIXTURE_KEY)
    _send(client, project, 5)
    database_proxy.cut()
    assert drain() == 0  # the batch failed, and the drain says so without raising
    assert _pending(clean_buffer) == 5  # taken by this worker, not acknowledged
    database_proxy.restore()
    back = time.monotonic()
    while Event.objects.count() < 5 and time.monotonic() - back < 10:
        drain()  # the scheduler's drain every 2 s, or kicks
        time.sleep(0.2)
    # Within the backoff (at most 5 s), not INGEST_RECLAIM_IDLE_SECONDS (120 s).
    assert Event.objects.count() == 5 and time.monotonic() - back < 6
    assert Issue.objects.get().times_seen == 5
    assert clean_buffer.depth() == 0 and _pending(clean_buffer) == 0


@pytest.mark.postgresql  # through a TCP proxy to PostgreSQL
def test_failing_drains_back_off_and_log_one_line_per_kind(
    database_proxy, make_project, client, drain, clean_buffer, caplog
):
    project, _ = make_project(public_key=FIXTURE_KEY)
    _send(client, project, 3)
    database_proxy.cut()
    attempts_before = database_proxy.accepted
    with caplog.at_level(logging.INFO):
        started = time.monotonic()
        while time.monotonic() - started < 3.0:
            drain()  # kicked every 20 ms, as a busy web tier would
            time.sleep(0.02)
        attempts = database_proxy.accepted - attempts_before
        failures = [r for r in caplog.records if r.name.startswith("ingest") and r.levelno >= logging.WARNING]
        assert len(failures) == 1 and failures[0].exc_info is not None  # not ~150 tracebacks
        assert "OperationalError" in failures[0].getMessage()
        assert 2 <= attempts <= 4  # at 0, 0.5 and 1.5 s (backoff doubling), not on every kick
        database_proxy.restore()
        while Event.objects.count() < 3 and time.monotonic() - started < 15:
            drain()
            time.sleep(0.2)
    assert Event.objects.count() == 3
    assert any("works again" in r.getMessage() for r in caplog.records if r.name.startswith("ingest"))


@pytest.mark.postgresql  # through a TCP proxy to PostgreSQL
def test_with_the_database_down_known_keys_still_work_and_unknown_ones_get_503(
    database_proxy, make_project, client, clean_buffer, settings
):
    settings.INGEST = {**settings.INGEST, "KEY_CACHE_SECONDS": 0}  # every cached key has expired
    project, _ = make_project(public_key=FIXTURE_KEY)
    other, other_key = make_project("acme", "api")
    _send(client, project, 1)  # this web process knows the key now
    database_proxy.cut()
    body = make_event_envelope({"message": "during the outage"}, uuid.uuid4().hex)
    assert post_envelope(client, project.id, body).status_code == 200  # the last known key
    refused = post_envelope(client, other.id, body, key=other_key.public_key)
    assert refused.status_code == 503 and int(refused["Retry-After"]) > 0
    assert clean_buffer.depth() == 2
    database_proxy.restore()
    assert post_envelope(client, other.id, body, key=other_key.public_key).status_code == 200


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def _new_buffer(backend: str, settings):
    if backend == "redis":
        return RedisStreamBuffer(settings.REDIS_URL, 120, prefix=f"{settings.REDIS_KEY_PREFIX}-gone")
    return DatabaseBuffer(reclaim_idle_seconds=120)


@pytest.mark.parametrize("backend", [pytest.param("redis", marks=pytest.mark.redis), "database"])
def test_entries_of_a_dead_process_on_this_host_are_taken_over_at_once(backend, db, settings):
    buffer = _new_buffer(backend, settings)
    if backend == "redis":
        buffer.client.delete(buffer.stream)
    alive = subprocess.Popen(["sleep", "30"])
    try:
        host = this_host()
        for n in range(4):
            buffer.put(b'{"p":1,"k":1,"r":1.0}\n' + str(n).encode())
        assert len(buffer.take(f"{host}-{alive.pid}-1402", 2)) == 2  # still running
        assert len(buffer.take(f"{host}-{_dead_pid()}-1401", 2)) == 2  # then killed with -9
        time.sleep(1.1)
        me = f"{host}-{os.getpid()}-{threading.get_ident()}"
        buffer = _new_buffer(backend, settings)  # a worker (re)started after the kill
        taken = buffer.take(me, 10)
        assert [e.payload[-1:] for e in taken] == [b"2", b"3"]  # the dead one's, not the live one's
        buffer.ack([e.id for e in taken])
        assert buffer.take(me, 10) == [] and buffer.depth() == 2
        if backend == "redis":  # the dead consumer, now empty, is forgotten
            names = {c["name"] for c in buffer.client.xinfo_consumers(buffer.stream, buffer.group)}
            assert {n.decode() if isinstance(n, bytes) else n for n in names} == {
                me,
                f"{host}-{alive.pid}-1402",
            }
    finally:
        alive.kill()
        if backend == "redis":
            buffer.client.delete(buffer.stream)


@pytest.mark.parametrize("backend", [pytest.param("redis", marks=pytest.mark.redis), "database"])
def test_a_worker_takes_back_its_own_unacknowledged_entries_first(backend, db, settings):
    buffer = _new_buffer(backend, settings)
    if backend == "redis":
        buffer.client.delete(buffer.stream)
    try:
        for n in range(3):
            buffer.put(b'{"p":1,"k":1,"r":1.0}\n' + str(n).encode())
        me = consumer_name()
        assert len(buffer.take(me, 2)) == 2  # its batch failed: not acknowledged
        again = buffer.take(me, 2)
        assert [e.payload[-1:] for e in again] == [b"0", b"1"]
        buffer.ack([e.id for e in again])
        assert [e.payload[-1:] for e in buffer.take(me, 2)] == [b"2"]
    finally:
        if backend == "redis":
            buffer.client.delete(buffer.stream)


@pytest.mark.postgresql  # a PostgreSQL trigger makes the outcome write fail
def test_outcomes_are_stored_in_the_batch_transaction(transactional_db, make_project, client, clean_buffer):
    project, _ = make_project(public_key=FIXTURE_KEY)
    _send(client, project, 5)
    payloads = [e.payload for e in clean_buffer.take(consumer_name(), 10)]
    with connection.cursor() as cursor:  # the outcome write fails after the events were written
        cursor.execute(
            "CREATE FUNCTION fail_outcomes() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'outcomes unavailable'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER fail_outcomes BEFORE INSERT ON usage_outcome "
            "FOR EACH STATEMENT EXECUTE FUNCTION fail_outcomes()"
        )
    try:
        with pytest.raises(DatabaseError):
            process_payloads(payloads)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER fail_outcomes ON usage_outcome")
            cursor.execute("DROP FUNCTION fail_outcomes()")
    process_payloads(payloads)  # the redelivery
    assert Event.objects.count() == 5
    assert Outcome.objects.get(project=project, outcome="accepted", category="error").quantity == 5


def _envelope_with_attachment(event_id: str) -> bytes:
    return (
        b'{"event_id":"%s"}\n{"type":"event"}\n{"message":"with file"}\n'
        b'{"type":"attachment","length":5,"filename":"a.txt"}\nhello\n'
    ) % event_id.encode()


def test_a_redelivered_batch_counts_client_reports_and_attachments_once(
    db, fixture_project, client, clean_buffer
):
    project, _ = fixture_project
    report = b'{"discarded_events":[{"reason":"ratelimit_backoff","category":"error","quantity":4}]}'
    assert post_envelope(client, project.id, b'{}\n{"type":"client_report"}\n' + report).status_code == 200
    assert post_envelope(client, project.id, _envelope_with_attachment(uuid.uuid4().hex)).status_code == 200
    payloads = [e.payload for e in clean_buffer.take(consumer_name(), 10)]
    process_payloads(payloads)
    process_payloads(payloads)  # stored, then the worker died before acknowledging: redelivered
    got = {(o.category, o.outcome): o.quantity for o in Outcome.objects.filter(project=project)}
    assert got == {("error", "client_discard"): 4, ("attachment", "accepted"): 1, ("error", "accepted"): 1}


def test_records_carry_a_unique_id_and_old_markers_expire(db):
    header = RecordHeader(project_id=1, key_id=1, received=1.0)
    first, second = (decode_record(encode_record(header, b"x"))[0].record_id for _ in range(2))
    assert first and second and first != second
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO usage_countedrecord (id, counted_at) VALUES (%s, %s), (%s, %s)",
            ["old", time.time() - 8 * 86400, "recent", time.time()],
        )
    expire_quota_counters()
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM usage_countedrecord")
        assert cursor.fetchall() == [("recent",)]


def test_drain_task_never_raises_when_redis_is_unreachable(settings, caplog):
    from ingest.buffer import get_buffer
    from ingest.tasks import reset_drain_state

    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    get_buffer.cache_clear()
    reset_drain_state()
    try:
        with caplog.at_level(logging.INFO):
            assert [drain_ingest_buffer.run() for _ in range(20)] == [0] * 20
        assert len([r for r in caplog.records if r.name.startswith("ingest") and r.exc_info]) == 1
    finally:
        get_buffer.cache_clear()
        reset_drain_state()


@pytest.mark.redis
def test_a_flush_of_dropped_counts_retried_after_a_crash_adds_nothing(db, fixture_project, settings):
    from core.redis_client import get_redis
    from usage.services import _pending_key, flush_pending, record_dropped

    project, _ = fixture_project
    client = get_redis()
    client.delete(_pending_key())  # counts other tests of this run left pending are not this test's
    record_dropped(project.organization_id, project.id, "error", "rate_limited", "key_quota", 3)
    flushing = f"{_pending_key()}:flushing"
    client.rename(_pending_key(), flushing)  # the flush began (as flush_pending does) ...
    client.hsetnx(flushing, "_batch_id", uuid.uuid4().hex)
    left_behind = client.hgetall(flushing)
    assert flush_pending() == 3
    client.hset(flushing, mapping=left_behind)  # ... and died before deleting the batch
    flush_pending()
    assert Outcome.objects.get(project=project, outcome="rate_limited").quantity == 3
    assert not client.exists(flushing)
