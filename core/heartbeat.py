"""Heartbeats: the worker(s) and the scheduler say every HEARTBEAT_SECONDS that they are alive, and
/_health/ answers 503 when one role has been silent too long.

One store for both modes: a row per role, host and process in the default database (an upsert on a
unique key, so any number of processes can write at once). Writers: the Celery worker's main process
and Celery beat with Redis (config/celery.py), the embedded runner otherwise (config/runner.py).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from datetime import timedelta

from django.utils import timezone

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 5.0
ROLES = ("worker", "scheduler")
# Rows of processes gone for this long are removed, so restarts do not pile rows up.
FORGET_AFTER = timedelta(days=1)


def beat(role: str, started_at=None) -> None:
    """Upsert this process's row for `role`."""
    from .models import Heartbeat

    now = timezone.now()
    row = Heartbeat(
        role=role, host=socket.gethostname(), pid=os.getpid(), started_at=started_at or now, beat_at=now
    )
    Heartbeat.objects.bulk_create(
        [row], update_conflicts=True, unique_fields=["role", "host", "pid"], update_fields=["beat_at"]
    )


def newest_beats() -> dict[str, float]:
    """Seconds since the newest heartbeat of each role that has one."""
    from django.db.models import Max

    from .models import Heartbeat

    now = timezone.now()
    rows = Heartbeat.objects.values("role").annotate(newest=Max("beat_at"))
    return {row["role"]: max(0.0, (now - row["newest"]).total_seconds()) for row in rows}


class Pulse:
    """Writes the heartbeat of `roles` at most every HEARTBEAT_SECONDS; never raises (a database that
    is down makes the heartbeat go stale, which is what /_health/ should then report)."""

    def __init__(self, *roles: str, interval: float = HEARTBEAT_SECONDS) -> None:
        self.roles = roles
        self.interval = interval
        self.started_at = timezone.now()
        self._last = 0.0
        self._failing = False
        self._forgot = False

    def __call__(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        try:
            for role in self.roles:
                beat(role, self.started_at)
            if not self._forgot:
                self._forget_old_rows()
        except Exception as exc:
            if not self._failing:  # one line when it starts failing, one when it recovers
                log.warning("heartbeat not written (%s: %s)", type(exc).__name__, exc)
            self._failing = True
            return
        if self._failing:
            log.warning("heartbeat written again")
        self._failing = False

    def _forget_old_rows(self) -> None:
        from .models import Heartbeat

        Heartbeat.objects.filter(beat_at__lt=timezone.now() - FORGET_AFTER).delete()
        self._forgot = True
