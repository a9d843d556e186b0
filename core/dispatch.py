"""How code asks for a task to run soon ("drain again, more is waiting"): one small interface whose
backend settings.TASK_DISPATCH chooses, like Django's email and cache backends.

* config.celery.CeleryDispatch (REDIS_URL set): a Celery message through Redis, taken by any worker
  (beside the Celery app, as core imports no other package).
* LocalDispatch (embedded default): no broker. Inside the embedded runner (config/runner.py, which
  registers itself here) the task runs in that process as soon as it is free. Elsewhere (the web
  process) the task's name goes as one datagram to the runner's socket, which only wakes it: the
  runner accepts names of its own schedule, and a datagram lost (or no runner listening) costs
  latency, never data, as the runner also looks at the ingest buffer twice a second.

Callers pass the task's registered name, so the web process never imports the processing stack.
Arguments (`args`) travel with Celery only; LocalDispatch runs a task without them, so a task that
takes arguments must treat none as "whatever is due" (issues.tasks.delete_issues does: no ids is
its sweep).
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Callable
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class TaskDispatch(Protocol):
    def send(self, name: str, args: list | None = None) -> None: ...


_local_handler: Callable[[str], None] | None = None


def set_local_handler(handler: Callable[[str], None] | None) -> None:
    """The embedded runner takes LocalDispatch's tasks while it runs (None when it stops)."""
    global _local_handler
    _local_handler = handler


def runner_address() -> str:
    """The runner's datagram socket: Linux's abstract namespace (no file to clean up, no path length
    limit), one name per DATA_DIR so that installations on one machine do not wake each other."""
    digest = hashlib.sha256(str(settings.DATA_DIR).encode()).hexdigest()[:20]
    return f"\0lighttrace-runner-{digest}"


_wake_socket: socket.socket | None = None


class LocalDispatch:
    def send(self, name: str, args: list | None = None) -> None:  # args: see the module's docstring
        global _wake_socket
        handler = _local_handler
        if handler is not None:
            handler(name)
            return
        try:
            if _wake_socket is None:
                _wake_socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                _wake_socket.setblocking(False)
            _wake_socket.sendto(name.encode(), runner_address())
        except OSError:  # no runner listening, its socket full, or no abstract sockets (not Linux)
            pass


def send_task(name: str, args: list | None = None) -> None:
    backend: TaskDispatch = import_string(settings.TASK_DISPATCH)()
    backend.send(name, args)
