"""Atomic check-and-add over several counters: Redis (Lua) or the database (one transaction)."""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Protocol

from django.conf import settings

# (group, counter, limit (-1: count only), ttl seconds, amount)
Entry = tuple[str, str, int, int, int]

# All-or-nothing per group: if any limit of a group would be exceeded, nothing of that group is added.
_LUA = """
local limited = {}
for i = 1, #KEYS do
  local base = (i - 1) * 4
  local group, limit, amount = ARGV[base + 1], tonumber(ARGV[base + 2]), tonumber(ARGV[base + 4])
  if limit >= 0 and limited[group] == nil then
    local current = tonumber(redis.call('GET', KEYS[i]) or '0')
    if current + amount > limit then limited[group] = i end
  end
end
for i = 1, #KEYS do
  local base = (i - 1) * 4
  if limited[ARGV[base + 1]] == nil then
    local amount = tonumber(ARGV[base + 4])
    if redis.call('INCRBY', KEYS[i], amount) == amount then
      redis.call('EXPIRE', KEYS[i], tonumber(ARGV[base + 3]))
    end
  end
end
local failed = {}
for _, i in pairs(limited) do table.insert(failed, i - 1) end
return failed
"""


class Counters(Protocol):
    def check_and_add(self, entries: list[Entry]) -> set[int]: ...
    def get_many(self, counters: list[str]) -> list[int]: ...


class RedisCounters:
    def __init__(self) -> None:
        from .redis_client import get_redis

        self.client = get_redis()
        self.script = self.client.register_script(_LUA)

    def check_and_add(self, entries: list[Entry]) -> set[int]:
        args: list = []
        for group, _, limit, ttl, amount in entries:
            args += [group, limit, ttl, amount]
        return {int(i) for i in self.script(keys=[e[1] for e in entries], args=args)}

    def get_many(self, counters: list[str]) -> list[int]:
        return [int(v or 0) for v in self.client.mget(counters)] if counters else []


class DatabaseCounters:
    """Increment, read back, and undo the groups that went over: one transaction, so concurrent
    requests serialize on the counter rows (PostgreSQL) or the write lock (SQLite)."""

    def check_and_add(self, entries: list[Entry]) -> set[int]:
        from django.db import transaction

        from issues.sql import fetch

        now = time.time()
        failed: set[int] = set()
        with transaction.atomic():
            values = []
            for _, counter, _, ttl, amount in entries:
                (value,) = fetch(
                    "INSERT INTO ingest_quotacounter (key, value, expires_at) VALUES (%s, %s, %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = CASE WHEN ingest_quotacounter.expires_at < %s "
                    "THEN excluded.value ELSE ingest_quotacounter.value + excluded.value END, "
                    "expires_at = CASE WHEN ingest_quotacounter.expires_at < %s THEN excluded.expires_at "
                    "ELSE ingest_quotacounter.expires_at END RETURNING value",
                    [counter, amount, now + ttl, now, now],
                )[0]
                values.append(value)
            over_groups = {}
            for index, ((group, _, limit, _, _), value) in enumerate(zip(entries, values, strict=True)):
                if limit >= 0 and value > limit and group not in over_groups:
                    over_groups[group] = index
            failed = set(over_groups.values())
            undo = [(e[4], e[1]) for e in entries if e[0] in over_groups]
            for amount, counter in undo:
                fetch("UPDATE ingest_quotacounter SET value = value - %s WHERE key = %s RETURNING value",
                      [amount, counter])  # fmt: skip
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
