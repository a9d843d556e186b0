"""Reading and keeping log records: retention per project and the searches the API and pages run."""

from __future__ import annotations

import time

from django.conf import settings

from .models import LogRetention

_RETENTION_TTL = 30.0
_retention_cache: dict[int, tuple[float, int]] = {}


def retention_days(project_id: int) -> int:
    """The project's log retention (cached briefly: the worker asks for every batch)."""
    now = time.monotonic()
    hit = _retention_cache.get(project_id)
    if hit and hit[0] > now:
        return hit[1]
    days = LogRetention.objects.filter(project_id=project_id).values_list("days", flat=True).first()
    days = days or settings.LOGS["RETENTION_DAYS"]
    _retention_cache[project_id] = (now + _RETENTION_TTL, days)
    return days


def clear_retention_cache() -> None:
    _retention_cache.clear()
