"""The embedded runner (config/runner.py): drains the ingest buffer and runs the beat schedule in one
process with a real database; a failing job never stops it; tasks reach it through core.dispatch."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from config.runner import Runner
from tests.conftest import make_event_envelope, post_envelope
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)
ROOT_DIR = Path(__file__).resolve().parents[1]
calls: Counter = Counter()


def counting_job() -> None:
    calls["counting"] += 1


def failing_job() -> None:
    calls["failing"] += 1
    raise RuntimeError("this job always fails")


@pytest.fixture(params=["redis", "database"])
def buffer_backend(request, settings, clean_buffer):
    """The runner drains whichever buffer is configured: the Redis stream, or the embedded table."""
    from ingest.buffer import get_buffer
    from ingest.quota_counters import get_counters

    settings.TASK_DISPATCH = "core.dispatch.LocalDispatch"
    redis_url = settings.REDIS_URL
    if request.param == "database":
        settings.REDIS_URL = ""
    get_buffer.cache_clear()
    get_counters.cache_clear()
    yield request.param
    # Back before clean_buffer's teardown looks the buffer up again.
    settings.REDIS_URL = redis_url
    get_buffer.cache_clear()
    get_counters.cache_clear()


@pytest.fixture
def start_runner(settings):
    settings.TASK_DISPATCH = "core.dispatch.LocalDispatch"
    calls.clear()
    started: list[tuple[Runner, threading.Thread]] = []

    def start(schedule: dict, poll: float = 0.05) -> Runner:
        runner = Runner(schedule=schedule, poll=poll)
        thread = threading.Thread(target=runner.run, daemon=True)
        thread.start()
        started.append((runner, thread))
        return runner

    yield start
    for runner, thread in started:
        runner.stop()
        thread.join(timeout=10)
        assert not thread.is_alive(), "the runner did not stop within 10 s"


def send_events(client, project, count: int) -> None:
    for n in range(count):
        body = make_event_envelope({"message": f"runner test {n}", "level": "error"}, uuid.uuid4().hex)
        assert post_envelope(client, project.id, body).status_code == 200


def stored(project) -> int:
    from issues.models import Event

    return Event.objects.filter(project=project).count()


def test_the_runner_drains_buffered_envelopes(buffer_backend, client, fixture_project, start_runner):
    project, _ = fixture_project
    send_events(client, project, 30)
    start_runner({})
    wait_until(lambda: stored(project) == 30)
    from ingest.buffer import get_buffer

    wait_until(lambda: get_buffer().depth() == 0)


def test_a_task_asking_for_a_drain_wakes_the_runner_at_once(
    client, fixture_project, start_runner, clean_buffer
):
    from core.dispatch import send_task

    project, _ = fixture_project
    send_events(client, project, 5)
    start_runner({}, poll=60.0)  # on its own it would not look at the buffer for a minute
    time.sleep(0.5)
    assert stored(project) == 0
    send_task("ingest.tasks.drain_ingest_buffer")
    wait_until(lambda: stored(project) == 5, timeout=5)


def test_another_process_wakes_the_runner_through_its_socket(
    client, fixture_project, start_runner, clean_buffer
):
    """The web process's kick in the embedded default: a datagram to the runner, not a broker."""
    project, _ = fixture_project
    send_events(client, project, 5)
    start_runner({}, poll=60.0)
    time.sleep(0.5)
    assert stored(project) == 0
    code = (
        "import django; django.setup()\n"
        "from core.dispatch import LocalDispatch\n"
        "LocalDispatch().send('os.abort')  # not a task of the runner: ignored\n"
        "LocalDispatch().send('ingest.tasks.drain_ingest_buffer')\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    subprocess.run([sys.executable, "-c", code], cwd=ROOT_DIR, env=env, check=True, timeout=60)
    wait_until(lambda: stored(project) == 5, timeout=5)


def test_scheduled_jobs_run_and_a_failing_one_does_not_stop_the_runner(
    client, fixture_project, start_runner, clean_buffer, caplog
):
    project, _ = fixture_project
    schedule = {
        "fails": {"task": "tests.test_runner.failing_job", "schedule": 0.05},
        "counts": {"task": "tests.test_runner.counting_job", "schedule": 0.05},
    }
    with caplog.at_level(logging.ERROR, logger="lighttrace.runner"):
        start_runner(schedule)
        wait_until(lambda: calls["failing"] >= 5 and calls["counting"] >= 5)
        send_events(client, project, 3)
        wait_until(lambda: stored(project) == 3)
        wait_until(lambda: calls["failing"] >= 10 and calls["counting"] >= 10)
    failures = [r for r in caplog.records if "tests.test_runner.failing_job failed" in r.getMessage()]
    assert len(failures) == 1, "one line per kind of failure per minute, not one per run"


release_blocking = threading.Event()


def blocking_job() -> None:
    calls["blocking"] += 1
    release_blocking.wait(10)


def test_an_alert_task_never_waits_behind_a_long_periodic_job(start_runner, monkeypatch):
    monkeypatch.setattr("alerts.tasks.process_alert_outbox", lambda: calls.update(["alert"]))
    release_blocking.clear()
    runner = start_runner({"slow": {"task": "tests.test_runner.blocking_job", "schedule": 0.05}})
    try:
        wait_until(lambda: calls["blocking"] >= 1)  # the jobs thread is inside a 10 s job now
        runner.request("alerts.tasks.process_alert_outbox")
        started = time.monotonic()
        wait_until(lambda: calls["alert"] == 1, timeout=5)
        assert time.monotonic() - started < 2 and calls["blocking"] == 1
    finally:
        release_blocking.set()


def test_the_default_schedule_is_the_beat_schedule_and_its_tasks_import():
    from django.conf import settings
    from django.utils.module_loading import import_string

    runner = Runner()
    assert set(runner.every) == {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for name in runner.every:
        assert callable(import_string(name).run)


def test_the_runner_writes_worker_and_scheduler_heartbeats(start_runner):
    from core.models import Heartbeat

    start_runner({})

    def roles() -> set[str] | None:
        written = set(Heartbeat.objects.filter(pid=os.getpid()).values_list("role", flat=True))
        return written if written >= {"worker", "scheduler"} else None  # the two threads start apart

    assert wait_until(roles) == {"worker", "scheduler"}


def test_without_redis_the_settings_choose_the_local_runner_and_the_table_buffer(tmp_path):
    """The embedded backends as the real settings module chooses them (no DATABASE_URL / REDIS_URL)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings")
    code = (
        "import django; django.setup()\n"
        "from django.conf import settings; from ingest.buffer import get_buffer\n"
        "print(settings.TASK_DISPATCH, type(get_buffer()).__name__, settings.DATABASES['default']['ENGINE'])\n"
        "print(hasattr(settings, 'CELERY_BROKER_URL'), hasattr(settings, 'CELERY_BROKER_TRANSPORT_OPTIONS'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT_DIR, env=env, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out[0] == "core.dispatch.LocalDispatch DatabaseBuffer django.db.backends.sqlite3"
    assert out[1] == "False False", "the embedded default configures no broker"
    assert not (tmp_path / "celery-queue").exists()


RACE = """
import sys, threading
from config.runner import _resolve_celery_names
_resolve_celery_names()
errors = []
def first_task_import():
    try:
        from celery import shared_task  # noqa: F401
    except Exception as exc:
        errors.append(exc)
threads = [threading.Thread(target=first_task_import) for _ in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
sys.exit(len(errors))
"""


def test_runner_threads_import_their_first_tasks_at_once_without_a_half_made_celery():
    """As `serve` starts the runner (no Celery app loaded): without the warm-up, 4 threads importing
    `shared_task` at once failed in 4 of 6 processes ("cannot import name 'shared_task' from
    'celery'"), which the runner logged as a failed task."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "LIGHTTRACE_WITHOUT_CELERY_APP": "1"}
    for _ in range(6):
        assert subprocess.run([sys.executable, "-c", RACE], env=env, timeout=60).returncode == 0


def test_the_runner_yields_the_cpu_to_the_web_process():
    """config.runner.main lowers its own priority by RUNNER_NICENESS (in a child process here: a
    niceness cannot be raised back)."""
    import os
    import subprocess
    import sys

    script = (
        "import os, django; django.setup()\n"
        "from config.runner import lower_priority\n"
        "before = os.getpriority(os.PRIO_PROCESS, 0); lower_priority()\n"
        "print(os.getpriority(os.PRIO_PROCESS, 0) - before)"
    )
    env = {**os.environ, "RUNNER_NICENESS": "7", "DJANGO_SETTINGS_MODULE": "config.settings"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == "7", done.stderr
