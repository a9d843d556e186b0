"""Stopping a worker without abandoning a batch.

systemd (and `kill -TERM -<pgid>`) signals the whole process group. Celery's main process then
shuts down warmly (waits for running tasks), but its prefork pool children used to die on the same
SIGTERM in the middle of a batch, leaving its entries unacknowledged until the reclaim timeout.
Here a pool child that is draining defers SIGTERM: its drain stores and acknowledges the batch in
hand, takes no new one, and the pool's own shutdown then ends the process. An idle child stops at
once, as before; a second SIGTERM is never deferred.

Broker-less runners call request_stop() from their own signal handling.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_stop = threading.Event()
_draining = threading.Event()


def request_stop() -> None:
    _stop.set()


def stop_requested() -> bool:
    return _stop.is_set()


def reset_stop() -> None:
    """For tests, and for a process that starts serving again."""
    _stop.clear()


@contextmanager
def draining() -> Iterator[None]:
    """Marks a drain in progress: a SIGTERM arriving now waits for the batch in hand."""
    _draining.set()
    try:
        yield
    finally:
        _draining.clear()


def _on_sigterm(signum: int, frame: object) -> None:
    request_stop()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if not _draining.is_set():
        os.kill(os.getpid(), signal.SIGTERM)  # nothing in hand: stop now


def _in_pool_child(**_: object) -> None:
    signal.signal(signal.SIGTERM, _on_sigterm)


def _worker_shutting_down(**_: object) -> None:
    # The main process (and the threads of a threads/solo pool) stops taking batches too.
    request_stop()


def connect_worker_signals() -> None:
    from celery import signals

    signals.worker_process_init.connect(_in_pool_child, weak=False, dispatch_uid="ingest-pool-child-sigterm")
    signals.worker_shutting_down.connect(
        _worker_shutting_down, weak=False, dispatch_uid="ingest-worker-shutting-down"
    )
