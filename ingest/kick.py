"""Wakes a worker after an envelope was buffered, at most once per KICK_INTERVAL per web process.

A lost or throttled kick costs latency, not data: the scheduler also starts a drain every 2 seconds
(every 0.5 s in the embedded default, whose task dispatch sends nothing from the web process).
"""

import logging
import threading
import time

from django.conf import settings

from core.dispatch import send_task

log = logging.getLogger(__name__)
_last_kick = 0.0
_lock = threading.Lock()


def kick_workers() -> None:
    global _last_kick
    now = time.monotonic()
    with _lock:
        if now - _last_kick < settings.INGEST["KICK_INTERVAL_SECONDS"]:
            return
        _last_kick = now
    try:
        # By name: the web process never imports the processing stack (grouping, scrubbing) this way.
        send_task("ingest.tasks.drain_ingest_buffer")
    except Exception:  # the broker being down must not fail an envelope that is already buffered
        log.warning("could not enqueue a drain task; the scheduler will pick the envelope up", exc_info=True)
