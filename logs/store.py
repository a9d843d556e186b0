"""The log store: one small interface (write a batch, query), its backend chosen once in the
settings (`LOG_STORE`). Ingest, API and pages only talk to this, so a columnar engine can back it
for an installation that outgrows PostgreSQL without touching them."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from .records import LogQuery, StoredLog


class LogStore(Protocol):
    def write(self, records: list[StoredLog]) -> set[str]:
        """Stores records not stored before (same id); returns the ids that were new. Runs inside
        the caller's transaction, so a batch and its counts commit together."""

    def search(self, query: LogQuery, limit: int) -> list[StoredLog]:
        """Newest first, ties broken by id: a stable order for keyset cursors. With `query.after`,
        the `limit` oldest records after it (still answered newest first)."""

    def histogram(self, query: LogQuery, bucket_seconds: int) -> list[tuple[datetime, int]]:
        """Records per time bucket (bucket start, count), oldest first, empty buckets left out."""

    def level_counts(self, query: LogQuery) -> dict[str, int]: ...

    def prepare(self, now: datetime) -> None:
        """Scheduled: make room for the days ahead (PostgreSQL creates their partitions)."""

    def expire(self, now: datetime, retention_days: dict[int, int], default_days: int) -> int:
        """Scheduled: removes records past their project's retention; returns how many went."""


@cache
def get_log_store() -> LogStore:
    return import_string(settings.LOG_STORE)()
