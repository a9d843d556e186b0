"""How code asks for a task to run soon ("drain again, more is waiting"): one small interface whose
backend settings.TASK_DISPATCH chooses, like Django's email and cache backends.

* CeleryDispatch (REDIS_URL set): a Celery message through Redis, taken by any worker.
* LocalDispatch (embedded default): no broker. Inside the embedded runner (config/runner.py, which
  registers itself here) the task runs in that process as soon as it is free; elsewhere (the web
  process) nothing is sent, as the runner looks at the ingest buffer twice a second and runs the
  beat schedule itself.

Callers pass the task's registered name, so the web process never imports the processing stack.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class TaskDispatch(Protocol):
    def send(self, name: str) -> None: ...


class CeleryDispatch:
    def send(self, name: str) -> None:
        from config.celery import app

        app.send_task(name)


_local_handler: Callable[[str], None] | None = None


def set_local_handler(handler: Callable[[str], None] | None) -> None:
    """The embedded runner takes LocalDispatch's tasks while it runs (None when it stops)."""
    global _local_handler
    _local_handler = handler


class LocalDispatch:
    def send(self, name: str) -> None:
        handler = _local_handler
        if handler is not None:
            handler(name)


def send_task(name: str) -> None:
    backend: TaskDispatch = import_string(settings.TASK_DISPATCH)()
    backend.send(name)
