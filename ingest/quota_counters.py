"""Atomic check-and-add over several counters: Redis (Lua) or the database (one transaction)."""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Protocol, cast

from django.conf import settings

from .buffer import BacklogFull

# (group, counter, limit (-1: count only), ttl seconds, amount)
Entry = tuple[str, str, int, int, int]

# All-or-nothing per group: if any limit of a group would be exceeded, nothing of that group is added.
# ARGV[1] is the number of counters; when KEYS has one more key, it is the ingest stream, and the last
# ARGV (the buffer record) is appended to it if nothing was limited: quota and enqueue, one round trip.
_LUA = """
local n = tonumber(ARGV[1])
if #KEYS > n then
  -- Shed before the backlog passes its bound: nothing counted, nothing buffered, the caller says 429.
  local max_depth = tonumber(ARGV[n * 4 + 3])
  if max_depth > 0 and redis.call('XLEN', KEYS[n + 1]) >= max_depth then return {-1} end
end
local limited = {}
local any = false
for i = 1, n do
  local base = (i - 1) * 4 + 1
  local group, limit, amount = ARGV[base + 1], tonumber(ARGV[base + 2]), tonumber(ARGV[base + 4])
  if limit >= 0 and limited[group] == nil then
    local current = tonumber(redis.call('GET', KEYS[i]) or '0')
    if current + amount > limit then limited[group] = i; any = true end
  end
end
for i = 1, n do
  local base = (i - 1) * 4 + 1
  if limited[ARGV[base + 1]] == nil then
    local amount = tonumber(ARGV[base + 4])
    if redis.call('INCRBY', KEYS[i], amount) == amount then
      redis.call('EXPIRE', KEYS[i], tonumber(ARGV[base + 3]))
    end
  end
end
if not any and #KEYS > n then
  redis.call('XADD', KEYS[n + 1], '*', 'd', ARGV[n * 4 + 2])
end
local failed = {}
for _, i in pairs(limited) do table.insert(failed, i - 1) end
return failed
"""


class Counters(Protocol):
    def check_and_add(self, entries: list[Entry], put: bytes | None = None) -> set[int]:
        """Returns the indexes of the entries whose limit was hit; `put` is buffered iff none was."""
        ...

    def get_many(self, counters: list[str]) -> list[int]: ...


class RedisCounters:
    def __init__(self) -> None:
        from core.redis_client import get_redis

        self.client = get_redis()
        self.script = self.client.register_script(_LUA)

    def check_and_add(self, entries: list[Entry], put: bytes | None = None) -> set[int]:
        import redis

        from .buffer import BufferUnavailable, RedisStreamBuffer, get_buffer

        args: list = [len(entries)]
        for group, _, limit, ttl, amount in entries:
            args += [group, limit, ttl, amount]
        keys = [e[1] for e in entries]
        if put is not None:
            keys.append(cast(RedisStreamBuffer, get_buffer()).stream)  # Redis counters go with Redis streams
            args += [put, settings.INGEST["MAX_QUEUE_DEPTH"]]
        try:
            failed = {int(i) for i in self.script(keys=keys, args=args)}
        except redis.RedisError as exc:
            raise BufferUnavailable(str(exc)) from exc
        if -1 in failed:
            raise BacklogFull()
        return failed

    def get_many(self, counters: list[str]) -> list[int]:
        import redis

        from .buffer import BufferUnavailable

        try:
            return [int(v or 0) for v in self.client.mget(counters)] if counters else []
        except redis.RedisError as exc:
            raise BufferUnavailable(str(exc)) from exc


_UPSERT_COUNTER = (
    "INSERT INTO ingest_quotacounter (key, value, expires_at) VALUES (%s, %s, %s) "
    "ON CONFLICT (key) DO UPDATE SET value = CASE WHEN ingest_quotacounter.expires_at < %s "
    "THEN excluded.value ELSE ingest_quotacounter.value + excluded.value END, "
    "expires_at = CASE WHEN ingest_quotacounter.expires_at < %s THEN excluded.expires_at "
    "ELSE ingest_quotacounter.expires_at END RETURNING value"
)


class DatabaseCounters:
    """Increment, read back, and undo the groups that went over: one transaction, so concurrent
    requests serialize on the counter rows (PostgreSQL) or the write lock (SQLite). Embedded, the
    counters share the buffer's own SQLite file (ingest/db_router.py): the request's counting and
    buffering are one transaction there, and never wait for the worker's batch on the main file."""

    def check_and_add(self, entries: list[Entry], put: bytes | None = None) -> set[int]:
        from django.db import DatabaseError

        from .buffer import BufferUnavailable

        try:
            return self._check_and_add(entries, put)
        except DatabaseError as exc:
            raise BufferUnavailable(str(exc)) from exc

    def _check_and_add(self, entries: list[Entry], put: bytes | None) -> set[int]:
        from django.db import connections, router, transaction

        from .buffer import check_backlog
        from .models import BufferedEnvelope, QuotaCounter

        if put is not None:
            check_backlog()
        database = router.db_for_write(QuotaCounter)
        assert database == router.db_for_write(BufferedEnvelope), "counting and buffering: one transaction"
        now = time.time()
        with transaction.atomic(using=database), connections[database].cursor() as cursor:
            values = []
            for _, counter, _, ttl, amount in entries:
                cursor.execute(_UPSERT_COUNTER, [counter, amount, now + ttl, now, now])
                values.append(cursor.fetchone()[0])
            over_groups = {}
            for index, ((group, _, limit, _, _), value) in enumerate(zip(entries, values, strict=True)):
                if limit >= 0 and value > limit and group not in over_groups:
                    over_groups[group] = index
            failed = set(over_groups.values())
            for amount, counter in [(e[4], e[1]) for e in entries if e[0] in over_groups]:
                cursor.execute(
                    "UPDATE ingest_quotacounter SET value = value - %s WHERE key = %s", [amount, counter]
                )
            if put is not None and not failed:
                BufferedEnvelope.objects.using(database).create(payload=put)
        return failed

    def get_many(self, counters: list[str]) -> list[int]:
        from .models import QuotaCounter

        now = time.time()
        found = dict(
            QuotaCounter.objects.filter(key__in=counters, expires_at__gte=now).values_list("key", "value")
        )
        return [found.get(c, 0) for c in counters]


@lru_cache(maxsize=1)
def get_counters() -> Counters:
    return RedisCounters() if settings.REDIS_URL else DatabaseCounters()
