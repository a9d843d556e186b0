"""Stopping a real Celery worker (prefork) while it drains. SIGTERM to its whole process group
(systemd's default): the batches in hand are finished and acknowledged, nothing stays pending for
the reclaim timeout. kill -9: a worker started on the same host takes the dead one's entries at
once. Either way the counts stay exact."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from ingest.buffer import get_buffer
from ingest.record import RecordHeader, encode_record
from ingest.tasks import drain_ingest_buffer, reset_drain_state
from issues.models import Event, Issue
from tests.conftest import make_event_envelope
from usage.models import Outcome

pytestmark = [pytest.mark.postgresql, pytest.mark.redis]  # a prefork Celery worker on PostgreSQL + Redis

ROOT = Path(__file__).resolve().parents[1]
EVENTS = 3000


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_worker(settings, log_path: Path, **extra_env: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "REDIS_KEY_PREFIX": settings.REDIS_KEY_PREFIX,
        "INGEST_BATCH_SIZE": "50",
        **extra_env,
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork",
               "--concurrency", "2", "--loglevel", "INFO", "-n", f"shutdown-{uuid.uuid4().hex[:8]}@%h"]  # fmt: skip
    with log_path.open("wb") as log:
        # Its own session: the test signals the worker's whole group, as systemd does with a unit.
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip


@pytest.fixture
def buffered_project(transactional_db, make_project, clean_buffer, settings):
    project, key = make_project()
    for _ in range(EVENTS):
        event_id = uuid.uuid4().hex  # in the record header, as the endpoint puts it: redelivery is idempotent
        header = RecordHeader(project_id=project.id, key_id=key.id, received=time.time(), event_id=event_id)
        body = make_event_envelope({"message": "shutdown", "level": "error"}, event_id)
        clean_buffer.put(encode_record(header, body))
    return project


def _drain_in(worker: subprocess.Popen, log_path: Path) -> None:
    from config.celery import app

    for _ in range(2):  # one drain per pool child
        app.send_task("ingest.tasks.drain_ingest_buffer")
    started = time.monotonic()
    while Event.objects.count() == 0:
        assert time.monotonic() - started < 90, log_path.read_text()
        time.sleep(0.05)
    time.sleep(0.3)  # well into the batches


def _stop(worker: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(worker.pid, sig)
        worker.wait(timeout=60)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)


def _assert_exact(project) -> None:
    assert Event.objects.count() == EVENTS
    assert Issue.objects.get().times_seen == EVENTS
    assert Outcome.objects.get(project=project, outcome="accepted").quantity == EVENTS


def test_sigterm_to_the_worker_group_finishes_the_batches_in_hand(buffered_project, settings, tmp_path):
    log_path = tmp_path / "worker.log"
    worker = _start_worker(settings, log_path)
    _drain_in(worker, log_path)
    _stop(worker, signal.SIGTERM)
    log = log_path.read_text()
    stored_at_stop = Event.objects.count()
    assert 0 < stored_at_stop < EVENTS, log  # it was stopped in the middle of the work
    buffer = get_buffer()
    assert buffer.client.xpending(buffer.stream, buffer.group)["pending"] == 0, log
    assert "WorkerLostError" not in log and worker.returncode == 0, log
    reset_drain_state()
    while buffer.depth():
        drain_ingest_buffer.run()
    _assert_exact(buffered_project)


def test_after_kill_9_a_new_worker_on_the_host_takes_the_dead_ones_entries_at_once(
    buffered_project, settings, tmp_path
):
    killed = _start_worker(settings, tmp_path / "killed.log")
    _drain_in(killed, tmp_path / "killed.log")
    _stop(killed, signal.SIGKILL)
    buffer = get_buffer()
    assert buffer.client.xpending(buffer.stream, buffer.group)["pending"] > 0  # batches in flight
    # Far longer than the test waits: only the same-host takeover can pick the entries up.
    log_path = tmp_path / "restarted.log"
    restarted = _start_worker(settings, log_path, INGEST_RECLAIM_IDLE_SECONDS="3600")
    try:
        _drain_in(restarted, log_path)
        started = time.monotonic()
        while buffer.depth() and time.monotonic() - started < 60:
            time.sleep(0.5)
        assert buffer.depth() == 0, log_path.read_text()
    finally:
        _stop(restarted, signal.SIGTERM)
    _assert_exact(buffered_project)
