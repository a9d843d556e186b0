"""The embedded default's worker and scheduler: one process, no broker (`python -m config.runner`).

Events never travel in task messages: they wait in the ingest buffer, a table here, which is the only
queue. So this process needs no transport. Its main thread drains the buffer (every POLL_SECONDS, at
once when a drain says more is waiting); a scheduler thread runs the periodic jobs of
settings.CELERY_BEAT_SCHEDULE, the one schedule of both modes (Celery beat reads it with Redis); a jobs
thread runs them one after the other, so a long retention pass never holds up the drain, and an
alerts thread runs the alert tasks, so no periodic job holds up an alert. Every run is
isolated: a job that raises is logged and the loops go on. Follow-up work that tasks ask for through
core.dispatch comes here, from this process directly and from the web process as a datagram that
wakes the drain at once. The main thread writes the "worker" heartbeat and the scheduler thread the
"scheduler" one (core/heartbeat.py), so a stuck loop shows on /_health/.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connections
from django.utils.module_loading import import_string

from core import dispatch
from core.heartbeat import HEARTBEAT_SECONDS, Pulse
from ingest.backoff import FailureLog

log = logging.getLogger("lighttrace.runner")
DRAIN_TASK = "ingest.tasks.drain_ingest_buffer"
# Alert tasks get a thread of their own, as they get a Celery queue and worker of their own with
# Redis: in the shared jobs thread an alert waited behind whatever periodic job was running
# (retention, bucket expiry, dictionary training), seconds at a time.
ALERT_TASKS = "alerts.tasks."
POLL_SECONDS = 0.5
# One log line per kind of failure of one task per this many seconds (a database outage would
# otherwise log a traceback twice a second).
LOG_EVERY_SECONDS = 60.0


def intervals(schedule: dict) -> dict[str, float]:
    """Task name -> seconds, from a Celery beat schedule whose entries run every N seconds."""
    result = {}
    for entry_name, entry in schedule.items():
        every = entry["schedule"]
        if isinstance(every, timedelta):
            every = every.total_seconds()
        if not isinstance(every, int | float):
            raise ValueError(f"beat entry {entry_name!r}: the embedded runner takes seconds, not {every!r}")
        result[entry["task"]] = float(every)
    return result


class Runner:
    def __init__(self, schedule: dict | None = None, poll: float = POLL_SECONDS) -> None:
        self.every = intervals(settings.CELERY_BEAT_SCHEDULE if schedule is None else schedule)
        self.poll = poll
        self.stopping = threading.Event()
        self._wake = threading.Event()
        self._jobs: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._alert_jobs: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._waiting: set[str] = set()
        self._lock = threading.Lock()
        self._logs: dict[str, FailureLog] = {}
        from ingest import shutdown  # here, not in stop(): that runs in a signal handler

        self._shutdown = shutdown

    def request(self, name: str) -> None:
        """Run task `name` soon: the drain in the main thread, alert tasks in the alerts thread,
        anything else in the jobs thread (at most once waiting per name)."""
        if name == DRAIN_TASK:
            self._wake.set()
            return
        with self._lock:
            if name in self._waiting:
                return
            self._waiting.add(name)
        (self._alert_jobs if name.startswith(ALERT_TASKS) else self._jobs).put(name)

    def stop(self, *_args) -> None:
        self.stopping.set()
        self._shutdown.request_stop()  # a drain in progress ends after its current batch
        self._wake.set()

    def run(self) -> None:
        self._shutdown.reset_stop()
        dispatch.set_local_handler(self.request)
        _resolve_celery_names()
        threads = [
            threading.Thread(target=self._thread, args=(self._schedule_loop,), name="scheduler", daemon=True),
            threading.Thread(target=self._thread, args=(self._jobs_loop,), name="jobs", daemon=True),
            threading.Thread(target=self._thread, args=(self._alert_jobs_loop,), name="alerts", daemon=True),
            threading.Thread(target=self._listen_loop, name="wake-up", daemon=True),
        ]
        for thread in threads:
            thread.start()
        try:
            self._thread(self._drain_loop)
        finally:
            dispatch.set_local_handler(None)
            self.stop()
            # A job in progress (retention commits every 1,000 rows) may be cut off at exit: its
            # next run continues. Stopping stays well within the 10 s a supervisor gives.
            deadline = time.monotonic() + 3.0
            for thread in threads:
                thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def _thread(self, loop: Callable[[], None]) -> None:
        try:
            loop()
        finally:
            connections.close_all()  # this thread's connections; no other thread uses them

    def _drain_loop(self) -> None:
        pulse = Pulse("worker")
        pulse(force=True)
        while not self.stopping.is_set():
            self._wake.wait(self.poll)
            self._wake.clear()
            if self.stopping.is_set():
                break
            self._run_isolated(DRAIN_TASK)
            pulse()

    def _schedule_loop(self) -> None:
        pulse = Pulse("scheduler")
        pulse(force=True)
        # No schedule file: every job runs once at start, then every interval, so frequent restarts
        # cannot postpone an hourly job for ever.
        due = dict.fromkeys(self.every, time.monotonic())
        while not self.stopping.wait(min(self.poll, HEARTBEAT_SECONDS)):
            now = time.monotonic()
            for name, at in due.items():
                if now >= at:
                    due[name] = now + self.every[name]
                    self.request(name)
            pulse()

    def _listen_loop(self) -> None:
        """Requests from other processes (the web process after buffering an envelope), one task name
        per datagram; only the tasks of this runner's schedule are taken."""
        known = {DRAIN_TASK, *self.every}
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            try:
                sock.bind(dispatch.runner_address())
            except OSError as exc:  # another runner on this DATA_DIR, or not Linux: polling only
                log.warning("no wake-up socket (%s); draining every %.1f s only", exc, self.poll)
                return
            sock.settimeout(min(self.poll, 0.5))
            while not self.stopping.is_set():
                try:
                    name = sock.recv(256).decode(errors="replace")
                except TimeoutError:
                    continue
                if name in known:
                    self.request(name)

    def _jobs_loop(self) -> None:
        self._serve(self._jobs)

    def _alert_jobs_loop(self) -> None:
        self._serve(self._alert_jobs)

    def _serve(self, jobs: queue.SimpleQueue[str]) -> None:
        while not self.stopping.is_set():
            try:
                name = jobs.get(timeout=min(self.poll, 0.5))
            except queue.Empty:
                continue
            with self._lock:
                self._waiting.discard(name)
            self._run_isolated(name)

    def _run_isolated(self, name: str) -> None:
        close_old_connections()  # a connection the database dropped is replaced, as per request
        try:
            task = import_string(name)
            getattr(task, "run", task)()  # a Celery task's body, or a plain function
        except Exception as exc:
            self._failures(name).failed(exc)
        else:
            self._failures(name).recovered()

    def _failures(self, name: str) -> FailureLog:
        """One log per task (each task runs in one thread only): a line per kind of failure and
        minute, and one when the task works again."""
        if name not in self._logs:
            self._logs[name] = FailureLog(log, name, interval=LOG_EVERY_SECONDS)
        return self._logs[name]


def _resolve_celery_names() -> None:
    """Celery's top-level names are made on first access by a module proxy that is not thread-safe:
    the jobs and alerts threads importing their first task modules at once saw a half-made `celery`
    ("cannot import name 'shared_task' from 'celery'"). Resolved here, before the threads start."""
    import celery

    celery.shared_task  # noqa: B018  # the attribute access is the point


def lower_priority() -> None:
    """The runner yields the CPU to the web process: on a small machine both want the same cores
    during a burst, and an SDK waiting for its answer matters more than a drain that catches up a
    moment later. bench/run.py --only embedded, 4 runs each: p99 at 32 connections 45/52/45/49 ms
    at the same priority, 45/44/48/40 ms at niceness 10, with the same events processed per second."""
    if settings.RUNNER_NICENESS:
        os.nice(settings.RUNNER_NICENESS)


def main() -> None:
    lower_priority()
    runner = Runner()
    signal.signal(signal.SIGTERM, runner.stop)
    signal.signal(signal.SIGINT, runner.stop)
    runner.run()


if __name__ == "__main__":
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    main()
