"""The Celery app (production: PostgreSQL + Redis). The embedded default uses no broker and no Celery
process: config/runner.py runs the same tasks and schedule.

Both Celery roles write a heartbeat for /_health/ (core/heartbeat.py): the worker's main process from
its timer, beat from its scheduler's tick.
"""

import os

from celery import Celery, bootsteps
from celery.beat import PersistentScheduler
from celery.signals import task_prerun
from django.conf import settings

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


# A waiting message is forgotten after this long (a worker that died holding it), so asking works again.
PENDING_SECONDS = 30


def _pending_key(name: str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:task-pending:{name}"


class CeleryDispatch:
    """core.dispatch's backend with Redis: a Celery message, taken by any worker; at most one message
    of a task waits at a time. Every web process asks for a drain every 50 ms under traffic; while
    the workers were busy the queue grew by tens of messages a second, each one redundant: the
    message already waiting runs after everything asked for so far. The mark goes when a worker
    starts the task (`_task_started`), so what is buffered during a run asks for the next one."""

    def send(self, name: str, args: list | None = None) -> None:
        from core.redis_client import get_redis

        if args is not None:  # work of its own (issues to delete): never folded into another message
            app.send_task(name, args=args)
        elif get_redis().set(_pending_key(name), 1, nx=True, ex=PENDING_SECONDS):
            app.send_task(name)


@task_prerun.connect
def _task_started(sender=None, **kwargs) -> None:
    """Only Celery workers run tasks through Celery (the embedded runner calls their bodies)."""
    if sender is not None:
        from core.redis_client import get_redis

        get_redis().delete(_pending_key(sender.name))
