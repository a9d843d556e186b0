"""One buffered envelope that cannot be stored (a bug, a value the store refuses) must not hold back the
entries behind it: it is kept as a dead letter, raw, and can be requeued. An outage still dead-letters
nothing. The poison is fault injection: the event writer raises for events carrying a marker."""

import logging
import time
import uuid

import psycopg.errors
import pytest
import redis
from django.core.management import call_command
from django.db import DataError, InterfaceError, OperationalError, ProgrammingError

import ingest.tasks
from ingest.dead_letters import is_transient
from ingest.models import DeadLetter
from ingest.record import decode_record
from issues.models import Event
from tests.conftest import FIXTURE_KEY, make_event_envelope, post_envelope

MARKER = "poison-4f1c"


@pytest.fixture
def poison(monkeypatch):
    """The writer raises a deterministic error for events whose title carries MARKER, as a bug would."""
    real = ingest.tasks.store_events

    def store_events(project_id, events):
        if any(MARKER in event.title for event in events):
            raise ValueError(f"cannot store {MARKER}")
        return real(project_id, events)

    monkeypatch.setattr(ingest.tasks, "store_events", store_events)
    return monkeypatch


def _send(client, project, *messages: str) -> None:
    for message in messages:
        body = make_event_envelope({"message": message}, uuid.uuid4().hex)
        assert post_envelope(client, project.id, body).status_code == 200


def _pending(buffer) -> int:
    if hasattr(buffer, "client"):
        return buffer.client.xpending(buffer.stream, buffer.group)["pending"]
    return buffer.depth()


def test_a_poison_entry_is_kept_as_a_dead_letter_and_the_rest_is_stored(
    db, fixture_project, client, drain, clean_buffer, poison, caplog
):
    project, _ = fixture_project
    _send(client, project, "good 1", "good 2", "good 3", f"bad {MARKER}", "good 4", "good 5")
    with caplog.at_level(logging.INFO):
        assert drain() == 6
    assert sorted(Event.objects.values_list("title", flat=True)) == [f"good {n}" for n in range(1, 6)]
    letter = DeadLetter.objects.get()
    assert letter.project_id == project.id and letter.error == f"ValueError: cannot store {MARKER}"
    assert MARKER.encode() in decode_record(bytes(letter.payload))[1]  # the raw envelope, as buffered
    assert "Traceback" in letter.traceback
    assert clean_buffer.depth() == 0 and _pending(clean_buffer) == 0  # everything acknowledged
    lines = [r for r in caplog.records if r.name.startswith("ingest") and r.levelno >= logging.WARNING]
    assert (
        len(lines) == 1 and lines[0].exc_info is None and f"dead letter {letter.id}" in lines[0].getMessage()
    )
    assert not ingest.tasks._backoff.delay  # not a failed drain: no backoff
    _send(client, project, "next 1", "next 2")
    assert drain() == 2 and Event.objects.count() == 7  # the next batch flows
    assert client.get("/_health/").json()["dead_letters"] == 1


def test_a_requeued_dead_letter_is_stored_once_the_cause_is_gone(
    db, fixture_project, client, drain, clean_buffer, poison, capsys
):
    project, _ = fixture_project
    _send(client, project, f"bad {MARKER}", "good")
    drain()
    assert DeadLetter.objects.count() == 1 and Event.objects.count() == 1
    call_command("requeue_dead_letters", "--list")
    assert f"ValueError: cannot store {MARKER}" in capsys.readouterr().out
    poison.undo()  # the bug is fixed
    call_command("requeue_dead_letters")
    assert "requeued 1 dead letters; 0 left" in capsys.readouterr().out
    assert not DeadLetter.objects.exists() and clean_buffer.depth() == 1
    assert drain() == 1
    assert Event.objects.filter(title=f"bad {MARKER}").count() == 1 and Event.objects.count() == 2


@pytest.mark.postgresql  # through a TCP proxy to PostgreSQL
def test_an_outage_dead_letters_nothing_and_loses_nothing(
    database_proxy, make_project, client, drain, clean_buffer, poison
):
    project, _ = make_project(public_key=FIXTURE_KEY)
    _send(client, project, "good 1", f"bad {MARKER}", "good 2")
    database_proxy.cut()
    assert drain() == 0  # the batch failed on the outage: not split, nothing acknowledged
    assert _pending(clean_buffer) == 3
    database_proxy.restore()
    started = time.monotonic()
    while Event.objects.count() < 2 and time.monotonic() - started < 10:
        drain()
        time.sleep(0.2)
    assert Event.objects.count() == 2 and DeadLetter.objects.count() == 1  # only the poison
    assert clean_buffer.depth() == 0 and _pending(clean_buffer) == 0


@pytest.mark.postgresql  # through a TCP proxy to PostgreSQL
def test_an_outage_while_isolating_leaves_the_rest_in_the_buffer(
    database_proxy, make_project, client, drain, clean_buffer, monkeypatch
):
    """The database goes away right after the batch failed on its poison: the halves fail with the
    outage, which stops the isolation; nothing becomes a dead letter, nothing is lost."""
    project, _ = make_project(public_key=FIXTURE_KEY)
    _send(client, project, "good 1", f"bad {MARKER}", "good 2")
    real = ingest.tasks.store_events

    def store_events(project_id, events):
        if any(MARKER in event.title for event in events):
            database_proxy.cut()
            raise ValueError("poison, then the outage")
        return real(project_id, events)

    monkeypatch.setattr(ingest.tasks, "store_events", store_events)
    assert drain() == 0
    database_proxy.restore()
    monkeypatch.undo()
    started = time.monotonic()
    while Event.objects.count() < 3 and time.monotonic() - started < 10:
        drain()
        time.sleep(0.2)
    assert Event.objects.count() == 3 and not DeadLetter.objects.exists()
    assert clean_buffer.depth() == 0


def _database_error(kind, sqlstate: str | None):
    error = kind("from the driver")
    if sqlstate:
        error.__cause__ = psycopg.errors.lookup(sqlstate)()
    return error


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (_database_error(OperationalError, "08006"), True),  # connection lost
        (_database_error(OperationalError, "57P01"), True),  # server shutting down
        (_database_error(OperationalError, "40P01"), True),  # deadlock
        (_database_error(OperationalError, "53100"), True),  # disk full
        (_database_error(OperationalError, None), True),  # SQLite locked, a connection that never came
        (_database_error(InterfaceError, None), True),  # connection already closed
        (_database_error(OperationalError, "54000"), False),  # a row over the index size limit
        (_database_error(DataError, "22P02"), False),
        (_database_error(ProgrammingError, "42P01"), True),  # code upgraded before `migrate`
        (_database_error(ProgrammingError, "42883"), True),  # an operator or function that is missing
        (_database_error(DataError, "22003"), False),  # a number out of range
        (_database_error(ProgrammingError, "42P18"), False),  # a parameter type a value left unknown
        (ValueError("non-hexadecimal number"), False),
        (ConnectionRefusedError(), True),
        (redis.ConnectionError("Error 111 connecting"), True),
    ],
)
def test_outages_are_told_apart_from_content_errors(error, transient):
    assert is_transient(error) is transient
