"""Embedded default: the ingest buffer has a SQLite file of its own, so an SDK request is answered
while the worker holds the main database's write lock. Real SQLite files, real threads.

Only meaningful on the embedded default (PostgreSQL + Redis keep the buffer in a Redis stream):
    env -u DATABASE_URL -u REDIS_URL DATA_DIR=$(mktemp -d) .venv/bin/python -m pytest tests/test_buffer_database.py
"""

import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager

import pytest
from django.db import connections

from ingest.buffer import get_buffer
from ingest.db_router import BUFFER_DATABASE
from ingest.models import BufferedEnvelope, QuotaCounter
from ingest.tasks import reset_drain_state
from issues.models import Event
from tests.conftest import make_event_envelope, post_envelope

pytestmark = [
    pytest.mark.sqlite,  # the embedded default (SQLite, no Redis) only; see the module docstring
    pytest.mark.django_db(transaction=True, databases="__all__"),
]


@contextmanager
def main_database_write_locked():
    """Another connection (as the worker's batch would) holds the main file's write lock."""
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        other = sqlite3.connect(connections["default"].settings_dict["NAME"], timeout=30)
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE projects_project SET name = name")
        locked.set()
        release.wait(60)
        other.rollback()
        other.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10)
    try:
        yield
    finally:
        release.set()
        holder.join()


def _in_thread(fn, timeout: float):
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(value=fn()))
    started = time.monotonic()
    thread.start()
    thread.join(timeout)
    return result.get("value"), time.monotonic() - started


def test_buffer_and_quota_counters_live_in_their_own_file(client, fixture_project):
    project, _ = fixture_project
    assert (
        post_envelope(client, project.id, make_event_envelope({"message": "x"}, uuid.uuid4().hex)).status_code
        == 200
    )
    buffer_file = connections[BUFFER_DATABASE].settings_dict["NAME"]
    assert buffer_file != connections["default"].settings_dict["NAME"]
    with sqlite3.connect(buffer_file) as raw:
        assert raw.execute("SELECT count(*) FROM ingest_bufferedenvelope").fetchone() == (1,)
        assert raw.execute("SELECT count(*) FROM ingest_quotacounter").fetchone()[0] >= 1
    assert "ingest_bufferedenvelope" not in connections["default"].introspection.table_names()
    assert BufferedEnvelope.objects.db == QuotaCounter.objects.db == BUFFER_DATABASE


def test_request_is_answered_while_the_main_database_is_write_locked(fixture_project, drain):
    from django.test import Client

    project, _ = fixture_project
    event_id = uuid.uuid4().hex
    body = make_event_envelope({"message": "while the worker writes"}, event_id)
    post_envelope(
        Client(), project.id, make_event_envelope({"message": "warm"}, uuid.uuid4().hex)
    )  # key cached
    with main_database_write_locked():
        response, seconds = _in_thread(lambda: post_envelope(Client(), project.id, body), timeout=5)
        assert response is not None, "the request waited for the main database's write lock"
        assert response.status_code == 200 and seconds < 5
    assert drain() == 2
    assert Event.objects.filter(event_id=event_id).exists()
    assert get_buffer().depth() == 0


def test_entries_are_deleted_only_after_their_batch_committed(client, fixture_project, drain):
    project, _ = fixture_project
    event_id = uuid.uuid4().hex
    assert (
        post_envelope(client, project.id, make_event_envelope({"message": "m"}, event_id)).status_code == 200
    )
    main = connections["default"]
    main.ensure_connection()
    with main.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 300")  # fail fast instead of waiting 20 s
    with main_database_write_locked():
        assert drain() == 0  # the batch cannot commit (the drain backs off): its entry must stay
    assert get_buffer().depth() == 1 and not Event.objects.exists()
    reset_drain_state()  # past the backoff: the same worker takes its own claim back first
    assert drain() == 1
    assert Event.objects.filter(event_id=event_id).count() == 1
    assert get_buffer().depth() == 0
