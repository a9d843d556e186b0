"""Rate-limit categories and the X-Sentry-Rate-Limits header (protocol §7). Pure, no Django."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# Data categories are not item types: several types share one, and client reports are never limited.
ITEM_CATEGORY = {
    "event": "error",
    "transaction": "transaction",
    "attachment": "attachment",
    "session": "session",
    "sessions": "session",
    "log": "log_item",
    "otel_log": "log_item",
    "span": "span",
    "otel_span": "span",
    "check_in": "monitor",
    "feedback": "feedback",
    "user_report": "feedback",
    "profile": "profile",
    "profile_chunk": "profile_chunk",
    "replay_event": "replay",
    "replay_recording": "replay",
    "replay_video": "replay",
    "trace_metric": "trace_metric",
    "client_report": "internal",
}
NEVER_LIMITED = frozenset({"internal"})
# When a limit names "error", SDKs must also stop message events, which they file under "default".
_HEADER_ALIASES = {"error": ("error", "default")}


def item_category(item_type: str) -> str | None:
    return ITEM_CATEGORY.get(item_type)


def item_quantity(headers: dict[str, Any]) -> int:
    """Container items (logs, spans, metrics) count their records, everything else counts once."""
    count = headers.get("item_count")
    return count if isinstance(count, int) and 0 < count <= 100_000 else 1


def category_quantities(items: Iterable[dict[str, Any]]) -> Counter[str]:
    """How much of each limited category an envelope's items (their headers) carry."""
    totals: Counter[str] = Counter()
    for headers in items:
        category = item_category(str(headers.get("type")))
        if category and category not in NEVER_LIMITED:
            totals[category] += item_quantity(headers)
    return totals


@dataclass(frozen=True)
class RateLimit:
    category: str
    scope: str  # "organization" | "project" | "key"
    reason: str
    retry_after: int  # seconds


def format_header(limits: Iterable[RateLimit]) -> str:
    """`retry_after:categories:scope:reason_code` entries, one per (limit), comma-separated."""
    parts = []
    for limit in limits:
        categories = ";".join(_HEADER_ALIASES.get(limit.category, (limit.category,)))
        parts.append(f"{limit.retry_after}:{categories}:{limit.scope}:{limit.reason}")
    return ", ".join(parts)


def retry_after(limits: Iterable[RateLimit]) -> int:
    return max((limit.retry_after for limit in limits), default=60)
