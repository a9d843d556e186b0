"""The Celery app (production: PostgreSQL + Redis). The embedded default uses no broker and no Celery
process: config/runner.py runs the same tasks and schedule.

Both Celery roles write a heartbeat for /_health/ (core/heartbeat.py): the worker's main process from
its timer, beat from its scheduler's tick.
"""

import os

from celery import Celery, bootsteps
from celery.beat import PersistentScheduler

from core.heartbeat import HEARTBEAT_SECONDS, Pulse

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("lighttrace")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Every HEARTBEAT_SECONDS from the worker's main process, on the worker's own timer: it stops
    when the worker's main loop stops, whatever the pool children do."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        self.pulse = Pulse("worker")
        self.entry = None
        super().__init__(worker, **kwargs)

    def start(self, worker):
        self.pulse(force=True)
        self.entry = worker.timer.call_repeatedly(HEARTBEAT_SECONDS, self.pulse)

    def stop(self, worker):
        if self.entry is not None:
            self.entry.cancel()


app.steps["worker"].add(WorkerHeartbeat)


class HeartbeatScheduler(PersistentScheduler):
    """Celery beat's default scheduler (schedule file) that also writes the "scheduler" heartbeat;
    it wakes at least every HEARTBEAT_SECONDS to do so."""

    _pulse: Pulse | None = None

    def tick(self, *args, **kwargs):
        if self._pulse is None:
            self._pulse = Pulse("scheduler")
        self._pulse()
        return min(super().tick(*args, **kwargs), HEARTBEAT_SECONDS)


class CeleryDispatch:
    """core.dispatch's backend with Redis: a Celery message, taken by any worker."""

    def send(self, name: str) -> None:
        app.send_task(name)
