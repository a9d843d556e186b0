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


_UPSERT_VALUES = "(%s, %s, %s)"
# One statement for every counter of a request: the web process's share of the ingest CPU is mostly
# per-statement overhead (Django's cursor wrappers, SQLite's statement preparation).
_UPSERT_COUNTERS = (
    "INSERT INTO ingest_quotacounter (key, value, expires_at) VALUES {values} "
    "ON CONFLICT (key) DO UPDATE SET value = CASE WHEN ingest_quotacounter.expires_at < %s "
    "THEN excluded.value ELSE ingest_quotacounter.value + excluded.value END, "
    "expires_at = CASE WHEN ingest_quotacounter.expires_at < %s THEN excluded.expires_at "
    "ELSE ingest_quotacounter.expires_at END RETURNING key, value"
)
_INSERT_BUFFERED = (
    "INSERT INTO ingest_bufferedenvelope (payload, claimed_at, claimed_by) VALUES (%s, NULL, '')"
)


def _add_all(cursor, entries: list[Entry], now: float) -> list[int]:
    """Adds every entry's amount (a counter that expired starts again) and returns, per entry, the
    counter's value before the request plus that entry's amount: what the Redis script compares."""
    totals: dict[str, int] = {}
    for _, counter, _, _, amount in entries:  # one row per counter: a statement may touch it once
        totals[counter] = totals.get(counter, 0) + amount
    ttls = {counter: ttl for _, counter, _, ttl, _ in entries}
    params: list = []
    for counter, amount in totals.items():
        params += [counter, amount, now + ttls[counter]]
    values = ", ".join([_UPSERT_VALUES] * len(totals))
    cursor.execute(_UPSERT_COUNTERS.format(values=values), [*params, now, now])
    new_values = dict(cursor.fetchall())
    return [new_values[counter] - totals[counter] + amount for _, counter, _, _, amount in entries]


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
            values = _add_all(cursor, entries, now) if entries else []
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
                cursor.execute(_INSERT_BUFFERED, [put])
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
