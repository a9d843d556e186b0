"""Stopping a worker without abandoning a batch.

systemd (and `kill -TERM -<pgid>`) signals the whole process group. Celery's main process then
shuts down warmly (waits for running tasks), but its prefork pool children used to die on the same
SIGTERM in the middle of a batch, leaving its entries unacknowledged until the reclaim timeout.
Here a pool child that is draining defers SIGTERM: its drain stores and acknowledges the batch in
hand, takes no new one, and the pool's own shutdown (the main process got the same SIGTERM) then
ends the process. An idle child stops at once, as before; a second SIGTERM is never deferred.

Broker-less runners call request_stop() from their own signal handling.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_stop = threading.Event()
_pool_child = False


def request_stop() -> None:
    _stop.set()


def stop_requested() -> bool:
    return _stop.is_set()


def reset_stop() -> None:
    """For tests, and for a process that starts serving again."""
    _stop.clear()


@contextmanager
def draining() -> Iterator[None]:
    """Around a drain: in a prefork pool child, a SIGTERM arriving now waits for the batch in hand.
    (Installed per drain, not once: billiard puts its own SIGTERM handler, which exits at once,
    after the worker_process_init signal; between drains that one is right.)"""
    previous = None
    if _pool_child and threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _defer_sigterm)
    try:
        yield
    finally:
        if previous is not None and signal.getsignal(signal.SIGTERM) is _defer_sigterm:
            signal.signal(signal.SIGTERM, previous)


def _defer_sigterm(signum: int, frame: object) -> None:
    request_stop()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM is not deferred


def _in_pool_child(**_: object) -> None:
    global _pool_child
    _pool_child = True


def _worker_shutting_down(**_: object) -> None:
    # The main process (and the threads of a threads/solo pool) stops taking batches too.
    request_stop()


def connect_worker_signals() -> None:
    from celery import signals

    signals.worker_process_init.connect(_in_pool_child, weak=False, dispatch_uid="ingest-pool-child")
    signals.worker_shutting_down.connect(
        _worker_shutting_down, weak=False, dispatch_uid="ingest-worker-shutting-down"
    )
