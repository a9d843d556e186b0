"""Project key lookup for the SDK endpoint, cached in process so a request does not hit the database.

A key disabled in the database stops working within KEY_CACHE_SECONDS. Unknown keys are cached
too (for a shorter time), so a flood with made-up keys cannot hammer the database either.

While the database is unreachable, the last known answer for a key stays in use (asking again
every few seconds), so SDKs keep being accepted into the buffer; a key never seen before raises
KeysUnavailable, which the endpoint answers with 503 and Retry-After.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.conf import settings

from core.sql import drop_broken_connection


@dataclass(frozen=True)
class KeyInfo:
    key_id: int
    project_id: int
    is_active: bool
    rate_limit_per_minute: int | None
    organization_id: int = 0
    org_monthly_quota: int | None = None
    project_monthly_quota: int | None = None


class KeysUnavailable(Exception):
    """The database cannot be asked about a key this process has never seen: answer 503."""


_cache: dict[str, tuple[float, KeyInfo | None]] = {}
_lock = threading.Lock()
_MAX_ENTRIES = 50_000
_NEGATIVE_TTL = 5.0
_RETRY_WHILE_DOWN = 5.0


def lookup_key(public_key: str) -> KeyInfo | None:
    from django.db import DatabaseError

    now = time.monotonic()
    hit = _cache.get(public_key)
    if hit is not None and hit[0] > now:
        return hit[1]
    try:
        info = _load(public_key)
    except DatabaseError as exc:
        drop_broken_connection()
        if hit is None:
            raise KeysUnavailable(str(exc)) from exc
        info = hit[1]
        with _lock:  # the last known answer, asked again in a few seconds rather than per request
            _cache[public_key] = (now + _RETRY_WHILE_DOWN, info)
        return info
    ttl = settings.INGEST["KEY_CACHE_SECONDS"] if info else _NEGATIVE_TTL
    with _lock:
        if len(_cache) >= _MAX_ENTRIES:
            _cache.clear()
        _cache[public_key] = (now + ttl, info)
    return info


def _load(public_key: str) -> KeyInfo | None:
    from projects.models import ProjectKey

    row = (
        ProjectKey.objects.filter(public_key=public_key)
        .values_list(
            "id",
            "project_id",
            "is_active",
            "rate_limit_per_minute",
            "project__organization_id",
            "project__organization__monthly_event_quota",
            "project__monthly_event_quota",
        )
        .first()
    )
    return KeyInfo(*row) if row else None


def clear_key_cache() -> None:
    with _lock:
        _cache.clear()
