"""Quotas and rate limits, checked on the request path before an envelope is accepted.

Per category (errors, transactions, log items, attachments, sessions ... are counted apart, so a
flood of logs never blocks errors): the organization's monthly event quota, the project's share of
it, spike protection against the project's own baseline, and the key's events-per-minute limit.
All counters of one request are checked and incremented in one atomic step: a Lua script in Redis,
or one database transaction in the embedded default, so concurrent web processes never overshoot.
"""

from __future__ import annotations

import calendar
import time
from collections import Counter
from dataclasses import dataclass

from django.conf import settings

from .buffer import get_buffer
from .keys import KeyInfo
from .protocol.ratelimits import RateLimit
from .quota_counters import get_counters
from .spikes import spike_cap

MONTH_TTL = 33 * 24 * 3600


@dataclass(frozen=True)
class Check:
    category: str
    counter: str
    limit: int  # -1: count only
    ttl: int
    scope: str
    reason: str
    retry_after: int


def _month_left(now: float) -> int:
    year, month = time.gmtime(now)[:2]
    last_day = calendar.monthrange(year, month)[1]
    end = calendar.timegm((year, month, last_day, 23, 59, 59, 0, 0, 0)) + 1
    return max(1, int(end - now))


def plan(key: KeyInfo, category: str, now: float) -> list[Check]:
    prefix = settings.REDIS_KEY_PREFIX
    month = time.strftime("%Y%m", time.gmtime(now))
    minute = int(now // 60)
    to_next_minute = max(1, 60 - int(now % 60))
    checks: list[Check] = []
    if category == "error":
        org_quota = key.org_monthly_quota
        if org_quota is None:
            org_quota = settings.QUOTAS["DEFAULT_MONTHLY_EVENTS"]
        if org_quota:
            checks.append(Check(category, f"{prefix}:q:org:{key.organization_id}:{month}", org_quota,
                                MONTH_TTL, "organization", "usage_exceeded", _month_left(now)))  # fmt: skip
        if key.project_monthly_quota:
            checks.append(Check(category, f"{prefix}:q:proj:{key.project_id}:{month}", key.project_monthly_quota,
                                MONTH_TTL, "project", "usage_exceeded", _month_left(now)))  # fmt: skip
        cap = spike_cap(key.project_id, now)
        checks.append(Check(category, f"{prefix}:q:spike:{key.project_id}:{minute}", cap if cap else -1,
                            120, "project", "spike_protection", to_next_minute))  # fmt: skip
        hour = int(now // 3600)
        checks.append(
            Check(category, f"{prefix}:q:hist:{key.project_id}:{hour}", -1, 26 * 3600, "project", "", 0)
        )
    per_minute = key.rate_limit_per_minute or settings.QUOTAS["KEY_RATE_LIMIT_PER_MINUTE"]
    if per_minute:
        checks.append(Check(category, f"{prefix}:q:key:{key.key_id}:{minute}:{category}", per_minute,
                            120, "key", "key_quota", to_next_minute))  # fmt: skip
    return checks


def consume(
    key: KeyInfo, quantities: Counter[str], now: float | None = None, record: bytes | None = None
) -> list[RateLimit]:
    """Counts the envelope's categories against every limit; returns the limits it ran into.

    A limited category is counted nowhere (its items are dropped); the others are counted everywhere.
    With `record`, the buffer record is appended in the same atomic step when nothing was limited.
    """
    now = time.time() if now is None else now
    checks: list[tuple[Check, int]] = []
    for category, quantity in sorted(quantities.items()):
        checks += [(check, quantity) for check in plan(key, category, now)]
    if not checks:
        if record is not None:
            get_buffer().put(record)
        return []
    failed = get_counters().check_and_add(
        [(c.category, c.counter, c.limit, c.ttl, quantity) for c, quantity in checks], put=record
    )
    return [
        RateLimit(c.category, c.scope, c.reason, c.retry_after)
        for i, (c, _) in enumerate(checks)
        if i in failed
    ]
