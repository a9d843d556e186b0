"""Client reports: what an SDK discarded itself (rate-limit backoff, queue overflow, before_send ...)."""

from __future__ import annotations

from collections import Counter
from typing import Any

# Older SDKs sent per-outcome lists instead of "discarded_events" with a reason.
_LEGACY_LISTS = {"rate_limited_events": "ratelimit_backoff", "filtered_events": "event_processor"}


def client_report_discards(report: Any) -> Counter[tuple[str, str]]:
    """(category, reason) -> quantity; anything malformed is skipped, never raised."""
    totals: Counter[tuple[str, str]] = Counter()
    if not isinstance(report, dict):
        return totals
    entries: list[tuple[Any, str | None]] = [(e, None) for e in _list(report.get("discarded_events"))]
    for key, legacy_reason in _LEGACY_LISTS.items():
        entries += [(e, legacy_reason) for e in _list(report.get(key))]
    for entry, default_reason in entries:
        if not isinstance(entry, dict):
            continue
        reason: Any = entry.get("reason", default_reason)
        category = entry.get("category")
        quantity = entry.get("quantity")
        if (
            isinstance(reason, str)
            and isinstance(category, str)
            and isinstance(quantity, int)
            and not isinstance(quantity, bool)
            and 0 < quantity <= 10**9
        ):
            totals[(category[:32], reason[:64])] += quantity
    return totals


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
