"""Project key lookup for the SDK endpoint, cached in process so a request does not hit the database.

A key disabled in the database stops working within KEY_CACHE_SECONDS. A flood of made-up keys
costs no query per request either: the process also holds the set of public keys that exist (a few
MB for 100,000 keys). A key outside it is still asked about, one query each, up to
UNKNOWN_KEY_QUERIES_PER_SECOND keys a second (so a key just created by another process works at
once); past that, within the second, it is unknown without asking the database. The set learns new
keys by a query of the keys created lately, run at most once per KNOWN_KEYS_REFRESH_SECONDS however
many unknown keys arrive (so during a flood a new key works within that time; one saved in this
process, at once), and is reloaded whole every KNOWN_KEYS_RELOAD_SECONDS to forget deleted keys.

While the database is unreachable, the last known answer for a key stays in use (asking again
every few seconds), so SDKs keep being accepted into the buffer; a key never seen before raises
KeysUnavailable, which the endpoint answers with 503 and Retry-After.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import timedelta

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


class KeyNotCached(Exception):
    """cached_key(): answering would need the database (the caller asks lookup_key elsewhere)."""


_cache: dict[str, tuple[float, KeyInfo | None]] = {}
_lock = threading.Lock()
_MAX_ENTRIES = 50_000
_NEGATIVE_TTL = 5.0
_RETRY_WHILE_DOWN = 5.0
KNOWN_KEYS_REFRESH_SECONDS = 1.0
UNKNOWN_KEY_QUERIES_PER_SECOND = 10
KNOWN_KEYS_RELOAD_SECONDS = 600.0
# A key is looked for among those created this long before the previous refresh began: a key saved
# by a transaction that commits later than its `created` time is still found.
_CREATED_OVERLAP = timedelta(seconds=120)


class KnownKeys:
    """The public keys that exist, as of the last refresh (deleted ones until the next whole reload:
    they cost a query each, answered from the negative cache afterwards)."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.loaded_at = self.refreshed_at = float("-inf")
        self.since = None  # wall-clock time the last refresh began (created >= since - overlap)
        self.failed = False
        self.refreshing = threading.Lock()

    def contains(self, public_key: str, now: float) -> bool:
        """Whether the key exists; refreshes first when the key is missing and the set is due. One
        refresh at a time: a thread that finds one under way waits for its result (the key may be in
        it) rather than answer "unknown" from the set before it."""
        if public_key in self.keys:
            return True
        with self.refreshing:
            if public_key in self.keys:
                return True
            if not self.due(now):
                if self.failed:
                    raise KeysUnavailable("the database could not be asked for new keys")
                return False
            self._refresh(now)
            return public_key in self.keys

    def due(self, now: float) -> bool:
        return (
            now - self.refreshed_at >= KNOWN_KEYS_REFRESH_SECONDS
            or now - self.loaded_at >= KNOWN_KEYS_RELOAD_SECONDS
        )

    def add(self, public_key: str) -> None:
        self.keys.add(public_key)

    def _refresh(self, now: float) -> None:
        from django.db import DatabaseError
        from django.utils import timezone

        whole = now - self.loaded_at >= KNOWN_KEYS_RELOAD_SECONDS or self.since is None
        started = timezone.now()
        try:
            found = self._query(whole)
        except DatabaseError as exc:
            drop_broken_connection()
            self.failed = True
            self.refreshed_at = time.monotonic()  # asked again once the period is over, not per request
            raise KeysUnavailable(str(exc)) from exc
        with _lock:
            if whole:
                self.keys, self.loaded_at = found, now
            else:
                self.keys |= found
        self.since = started - _CREATED_OVERLAP
        self.failed = False
        # Set last: until now the set was due, so the event loop's cached_key() sent its lookups to a
        # thread (which waited for this refresh) instead of answering them from the set before it.
        self.refreshed_at = time.monotonic()

    def _query(self, whole: bool) -> set[str]:
        from projects.models import ProjectKey

        rows = ProjectKey.objects.all() if whole else ProjectKey.objects.filter(created__gte=self.since)
        return set(rows.values_list("public_key", flat=True))


class UnknownKeyQueries:
    """How many keys outside the set this second may still be asked about one by one."""

    def __init__(self) -> None:
        self.second = self.used = 0

    def left(self, now: float) -> bool:
        return int(now) != self.second or self.used < UNKNOWN_KEY_QUERIES_PER_SECOND

    def take(self, now: float) -> bool:
        if int(now) != self.second:
            self.second, self.used = int(now), 0
        if self.used >= UNKNOWN_KEY_QUERIES_PER_SECOND:
            return False
        self.used += 1  # approximate across threads (no lock): a bound, not an exact count
        return True


_known = KnownKeys()
_unknown_queries = UnknownKeyQueries()


def lookup_key(public_key: str) -> KeyInfo | None:
    from django.db import DatabaseError

    now = time.monotonic()
    hit = _cache.get(public_key)
    if hit is not None and hit[0] > now:
        return hit[1]
    if hit is None and public_key not in _known.keys and not _unknown_queries.take(now):
        # A flood of keys outside the set: answered from the set alone, nothing cached that could fill up.
        if not _known.contains(public_key, now):
            return None
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
    if info is not None:
        _known.add(public_key)
    with _lock:
        if len(_cache) >= _MAX_ENTRIES:
            _cache.clear()
        _cache[public_key] = (now + ttl, info)
    return info


def cached_key(public_key: str) -> KeyInfo | None:
    """lookup_key's answer when it needs no database query; KeyNotCached otherwise. For the web
    front's event loop, which must never wait for the database."""
    now = time.monotonic()
    hit = _cache.get(public_key)
    if hit is not None and hit[0] > now:
        return hit[1]
    if (
        hit is None
        and public_key not in _known.keys
        and not _unknown_queries.left(now)
        and not _known.due(now)
        and not _known.failed
    ):
        return None  # a flood of unknown keys, and the set is fresh: unknown without a thread
    raise KeyNotCached(public_key)


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


def key_saved(sender, instance, **kwargs) -> None:
    """post_save of ProjectKey (ingest/apps.py): a key made in this process works at once."""
    _known.add(instance.public_key)
    with _lock:
        _cache.pop(instance.public_key, None)


def clear_key_cache() -> None:
    global _known, _unknown_queries
    with _lock:
        _cache.clear()
        _known, _unknown_queries = KnownKeys(), UnknownKeyQueries()
