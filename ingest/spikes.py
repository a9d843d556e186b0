"""Spike protection: a project sending far above its own usual rate is capped per minute.

The baseline is the project's average accepted errors per minute over the previous 24 hours in
which it sent anything. A project without a full past hour has no baseline and is not capped, so
a brand-new project can take its first bursts.
"""

from __future__ import annotations

import threading

from django.conf import settings

_cache: dict[int, tuple[float, int | None]] = {}
_lock = threading.Lock()
_REFRESH_SECONDS = 300


def spike_cap(project_id: int, now: float) -> int | None:
    config = settings.QUOTAS
    if not config["SPIKE_PROTECTION"]:
        return None
    hit = _cache.get(project_id)
    if hit and hit[0] > now:
        return hit[1]
    cap = _compute(project_id, now)
    with _lock:
        _cache[project_id] = (now + _REFRESH_SECONDS, cap)
    return cap


def _compute(project_id: int, now: float) -> int | None:
    from .quota_counters import get_counters

    prefix = settings.REDIS_KEY_PREFIX
    hour = int(now // 3600)
    keys = [f"{prefix}:q:hist:{project_id}:{h}" for h in range(hour - 24, hour)]
    active = [count for count in get_counters().get_many(keys) if count]
    if not active:
        return None
    per_minute = sum(active) / (60 * len(active))
    config = settings.QUOTAS
    return max(config["SPIKE_MIN_PER_MINUTE"], int(per_minute * config["SPIKE_MULTIPLIER"]))


def clear_spike_cache() -> None:
    with _lock:
        _cache.clear()
