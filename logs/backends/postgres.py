"""PostgreSQL log store: one table partitioned by day (declarative), written with binary COPY.

Retention drops whole day partitions (no DELETE, no vacuum debt); a project that keeps less than
the longest retention loses its older rows by bounded DELETEs. Indexes per partition: the primary
key (project, time, id) for time order and cursors, trace id, (project, level, time), a GIN
`jsonb_path_ops` index for typed attribute key/value containment (user.*, release, any attribute)
and a trigram GIN index for substring search in bodies.

The attributes every record of a process repeats (logs/attribute_sets.py) are kept once per
distinct set in `logs_record_attribute_set` (id = their hash, upserted by the batch that first meets
them); the record keeps the set's id and its own attributes. A search on a shared key looks in the
sets, on any other key in the record; a read merges both. A set also keeps the day of the newest
record that uses it (`last_day`, moved forward by the upsert at most once a day), so that retention
can delete the sets whose records are all gone without scanning the records.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import orjson
import psycopg
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from psycopg.types.json import Jsonb

from core.sql import copy_rows, copy_upsert

from ..attribute_sets import (
    PARAMETER_PREFIX,
    USER_ID_KEY,
    is_shared,
    parameter_name,
    set_id,
    split_attributes,
)
from ..records import StoredLog
from .sql import TABLE, SqlLogStore, like_pattern, user_id_value

# Few distinct keys, so B-tree deduplication stores each (project, level) and (project, user) once
# per page with a list of row pointers: about 7 bytes a record instead of 50-60 with the timestamp
# in the key. The searches read the newest rows by the primary key's time order and these narrow
# the rows (the planner has their statistics), so the timestamp bought little (migration 0002).
NARROW_INDEXES = [
    f"CREATE INDEX IF NOT EXISTS logs_record_level_idx ON {TABLE} (project_id, level)",
    f"CREATE INDEX IF NOT EXISTS logs_record_user_idx ON {TABLE} (project_id, user_id) WHERE user_id IS NOT NULL",
]
SETS = f"{TABLE}_attribute_set"
# Existing sets get the day the column is added: kept one retention longer than they need to be.
SETS_LAST_DAY = f"ALTER TABLE {SETS} ADD COLUMN IF NOT EXISTS last_day date NOT NULL DEFAULT CURRENT_DATE"
ATTRIBUTE_SETS = [
    f"CREATE TABLE IF NOT EXISTS {SETS} (id bigint PRIMARY KEY, attributes jsonb NOT NULL)",
    SETS_LAST_DAY,
    f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS attribute_set_id bigint",
    f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS parameters jsonb",
]
# The span id as its 8 bytes (9 stored) rather than 16 hex characters (17 stored); none is NULL.
SPAN_AS_BYTES = (
    f"ALTER TABLE {TABLE} ALTER COLUMN span_id DROP DEFAULT, ALTER COLUMN span_id DROP NOT NULL, "
    "ALTER COLUMN span_id TYPE bytea USING decode(NULLIF(span_id, ''), 'hex')"
)
SCHEMA = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"""CREATE TABLE IF NOT EXISTS {TABLE} (
        id uuid NOT NULL,
        project_id bigint NOT NULL,
        timestamp timestamptz NOT NULL,
        attribute_set_id bigint,
        trace_id uuid,
        span_id bytea,
        level text NOT NULL,
        severity_number smallint NOT NULL,
        body text NOT NULL,
        attributes jsonb NOT NULL,
        parameters jsonb,
        user_id text,
        PRIMARY KEY (project_id, timestamp, id)
    ) PARTITION BY RANGE (timestamp)""",
    f"CREATE INDEX IF NOT EXISTS logs_record_trace_idx ON {TABLE} (trace_id) WHERE trace_id IS NOT NULL",
    *NARROW_INDEXES,
    f"CREATE INDEX IF NOT EXISTS logs_record_attributes_idx ON {TABLE} USING gin (attributes jsonb_path_ops)",
    f"CREATE INDEX IF NOT EXISTS logs_record_body_idx ON {TABLE} USING gin (body gin_trgm_ops)",
]
_TYPES = [
    "uuid",
    "int8",
    "timestamptz",
    "uuid",
    "bytea",
    "text",
    "int2",
    "text",
    "jsonb",
    "text",
    "int8",
    "jsonb",
]
_ALL_COLUMNS = ["id", "project_id", "timestamp", "trace_id", "span_id", "level", "severity_number", "body",
                "attributes", "user_id", "attribute_set_id", "parameters"]  # fmt: skip
_TIME_INDEX = _ALL_COLUMNS.index("timestamp")
_SET_INDEX = _ALL_COLUMNS.index("attribute_set_id")
UNIQUE_VIOLATION = "23505"
# COPY runs on psycopg's own cursor, whose errors Django does not wrap.
INTEGRITY_ERRORS = (IntegrityError, psycopg.IntegrityError)
_DUMPS = orjson.dumps


def partition_name(day: date) -> str:
    return f"{TABLE}_p{day:%Y%m%d}"


class PostgresLogStore(SqlLogStore):
    def __init__(self) -> None:
        self._known_days: set[date] = set()

    def time_param(self, value: datetime) -> Any:
        return value

    def time_value(self, value: Any) -> datetime:
        return value.astimezone(UTC)

    # The merged attributes of a record: its set's (if any), its own, a string `user.id`, and its
    # template parameters under their full key.
    attributes_select = (
        f"CASE WHEN attribute_set_id IS NULL THEN attributes ELSE COALESCE((SELECT s.attributes FROM {SETS} s "
        "WHERE s.id = attribute_set_id), '{}'::jsonb) || attributes END || CASE WHEN user_id IS NULL "
        f"OR attributes ? '{USER_ID_KEY}' THEN '{{}}'::jsonb ELSE jsonb_build_object('{USER_ID_KEY}', user_id) END "
        f"|| CASE WHEN parameters IS NULL THEN '{{}}'::jsonb ELSE (SELECT jsonb_object_agg('{PARAMETER_PREFIX}' "
        "|| p.key, p.value) FROM jsonb_each(parameters) p) END"
    )

    def span_value(self, value: Any) -> str:
        return bytes(value).hex() if value else ""

    def attribute_equals(self, key: str, value: Any) -> tuple[str, list]:
        if key == USER_ID_KEY and isinstance(value, str):
            return f"(user_id = %s AND NOT attributes ? '{USER_ID_KEY}')", [value]
        column, name = _column(key)
        return _in_place(key, f"{column} @> %s::jsonb", [_DUMPS({name: value}).decode()])

    def attribute_like(self, key: str, pattern: str) -> tuple[str, list]:
        if key == USER_ID_KEY:  # a string user id is in its column only (an integer one stays in both)
            return f"(user_id ILIKE %s AND NOT attributes ? '{USER_ID_KEY}')", [pattern]
        column, name = _column(key)
        sql = f"(jsonb_typeof({column}->%s) = 'string' AND {column}->>%s ILIKE %s)"
        return _in_place(key, sql, [name, name, pattern])

    def attribute_compare(self, key: str, operator: str, number: float) -> tuple[str, list]:
        # CASE, not AND: SQL does not promise to test the type before casting a string to numeric.
        column, name = _column(key)
        sql = (
            f"CASE WHEN jsonb_typeof({column}->%s) = 'number' THEN ({column}->>%s)::numeric {operator} %s END"
        )
        return _in_place(key, sql, [name, name, number])

    def body_contains(self, text: str) -> tuple[str, list]:
        return "body ILIKE %s", [like_pattern(text)]

    def bucket_expression(self, seconds: int) -> str:
        return f"floor(extract(epoch FROM timestamp) / {seconds})"

    def write(self, records: list[StoredLog]) -> set[str]:
        if not records:
            return set()
        self._ensure_partitions({r.timestamp.date() for r in records})
        sets: dict[int, dict] = {}
        rows = [record_row(r, sets) for r in records]
        upsert_sets(sets, _last_days(rows))
        try:
            with transaction.atomic():
                return self._copy(rows)
        except INTEGRITY_ERRORS:
            # "no partition for row": a partition this process knew of was dropped or rolled back
            # (retention in another process, a test's transaction). Look again and retry once.
            self._known_days.clear()
            self._ensure_partitions({r.timestamp.date() for r in records})
            return self._copy(rows)

    def _copy(self, rows: list[tuple]) -> set[str]:
        """A redelivered batch is rare: COPY straight into the table first (no scratch table, no
        sort, no speculative insertion: about half the database's time per record), and only when
        the primary key refuses a row, the same rows again through ON CONFLICT DO NOTHING."""
        try:
            with transaction.atomic():
                copy_rows(TABLE, _ALL_COLUMNS, _TYPES, rows)
            return {row[0].hex for row in rows}
        except INTEGRITY_ERRORS as exc:
            if getattr(exc.__cause__ or exc, "sqlstate", None) != UNIQUE_VIOLATION:
                raise
        inserted = copy_upsert(
            TABLE, _ALL_COLUMNS, _TYPES, rows, conflict=["project_id", "timestamp", "id"], returning=["id"]
        )
        return {row[0].hex for row in inserted}

    def _ensure_partitions(self, days: set[date]) -> None:
        missing = days - self._known_days
        if not missing:
            return
        self._known_days |= existing_partition_days()
        for day in sorted(missing - self._known_days):
            create_partition(day)
            self._known_days.add(day)

    def prepare(self, now: datetime) -> None:
        today = now.astimezone(UTC).date()
        ahead = settings.LOGS["PARTITION_DAYS_AHEAD"]
        self._known_days = existing_partition_days()  # hourly: look, rather than trust the cache
        self._ensure_partitions({today + timedelta(days=n) for n in range(-1, ahead + 1)})

    def expire(self, now: datetime, retention_days: dict[int, int], default_days: int) -> int:
        longest = max([default_days, *retention_days.values()])
        cutoff_day = now.astimezone(UTC).date() - timedelta(days=longest)
        dropped = 0
        with connection.cursor() as cursor:
            for day in sorted(existing_partition_days()):
                if day < cutoff_day:
                    cursor.execute(f"DROP TABLE IF EXISTS {partition_name(day)}")
                    self._known_days.discard(day)
                    dropped += 1
        deleted = _delete_shorter_retention(now, retention_days, default_days, longest)
        return dropped + deleted + _delete_unused_sets(cutoff_day)


def _column(key: str) -> tuple[str, str]:
    """Where a key's value is (in the record or its set), and under which name."""
    name = parameter_name(key)
    return ("parameters", name) if name else ("attributes", key)


def _in_place(key: str, condition: str, params: list) -> tuple[str, list]:
    """A condition on the record's own attributes, or for a shared key, on its attribute set."""
    if not is_shared(key):
        return condition, params
    return f"attribute_set_id IN (SELECT id FROM {SETS} WHERE {condition})", params


def record_row(record: StoredLog, sets: dict[int, dict]) -> tuple:
    """The COPY row of a record; its shared attributes go to `sets` (by id) instead."""
    shared, own, parameters = split_attributes(record.attributes)
    attribute_set = set_id(shared)
    if attribute_set is not None:
        sets[attribute_set] = shared
    r = record
    return (
        uuid.UUID(r.id), r.project_id, r.timestamp, uuid.UUID(r.trace_id) if r.trace_id else None,
        span_bytes(r.span_id),
        r.level, r.severity_number, r.body, Jsonb(own, dumps=_jsonb_text), user_id_value(r.attributes), attribute_set,
        Jsonb(parameters, dumps=_jsonb_text) if parameters else None,
    )  # fmt: skip


def span_bytes(span_id: str) -> bytes | None:
    """The span id's 8 bytes; None for none, or for one that is not 16 hex digits (a scrubber can
    take an all-digit span id for a card number): one bad record must not stop its batch."""
    try:
        return bytes.fromhex(span_id) if len(span_id) == 16 else None
    except ValueError:
        return None


def upsert_sets(sets: dict[int, dict], last_days: dict[int, date] | None = None) -> None:
    """One statement per batch (a batch mostly meets one or two sets). A set stored before keeps its
    attributes; its `last_day` moves forward when the batch has newer records (the WHERE makes that
    an update once a day, not once a batch). Rows go in id order, so that two writers of the same
    sets lock them in the same order. Without `last_days` (migrations), today."""
    if not sets:
        return
    ids = sorted(sets)
    today = datetime.now(UTC).date()
    days = [(last_days or {}).get(i, today) for i in ids]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SETS} (id, attributes, last_day) "
            "SELECT * FROM unnest(%s::bigint[], %s::jsonb[], %s::date[]) "
            f"ON CONFLICT (id) DO UPDATE SET last_day = excluded.last_day WHERE {SETS}.last_day < excluded.last_day",
            [ids, [_jsonb_text(sets[i]) for i in ids], days],
        )


def _last_days(rows: list[tuple]) -> dict[int, date]:
    """The day of the newest record per attribute set, from the COPY rows (timestamp, set id)."""
    days: dict[int, date] = {}
    for row in rows:
        set_key, day = row[_SET_INDEX], row[_TIME_INDEX].astimezone(UTC).date()
        if set_key is not None and days.get(set_key, day) <= day:
            days[set_key] = day
    return days


def _delete_unused_sets(cutoff_day: date) -> int:
    """Sets whose newest record is older than the oldest day kept: every record using them is in
    a partition retention dropped. A writer meeting such a set again at the same moment either moves
    its `last_day` first (the DELETE then re-checks the row and keeps it) or inserts it anew after.
    10,000 at a time, so no statement runs long."""
    deleted = 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                f"DELETE FROM {SETS} WHERE id IN (SELECT id FROM {SETS} WHERE last_day < %s LIMIT 10000) "
                "AND last_day < %s",
                [cutoff_day, cutoff_day],
            )
            deleted += cursor.rowcount
            if cursor.rowcount < 10000:
                return deleted


def _jsonb_text(value: Any) -> str:
    return _DUMPS(value).decode()


def existing_partition_days() -> set[date]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            [TABLE],
        )
        names = [row[0] for row in cursor.fetchall()]
    prefix = f"{TABLE}_p"
    return {datetime.strptime(n[len(prefix) :], "%Y%m%d").date() for n in names if n.startswith(prefix)}


def create_partition(day: date) -> None:
    start = datetime.combine(day, time(), UTC)
    end = start + timedelta(days=1)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {partition_name(day)} PARTITION OF {TABLE} "
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        )


def _delete_shorter_retention(
    now: datetime, retention_days: dict[int, int], default_days: int, longest: int
) -> int:
    """Projects keeping less than the partitions hold: their older rows, 10,000 at a time."""
    deleted = 0
    with connection.cursor() as cursor:
        for project_id, days in sorted(retention_days.items()):
            if days >= longest:
                continue
            cursor.execute(
                f"DELETE FROM {TABLE} WHERE (project_id, timestamp, id) IN (SELECT project_id, timestamp, id "
                f"FROM {TABLE} WHERE project_id = %s AND timestamp < %s LIMIT 10000)",
                [project_id, now - timedelta(days=days)],
            )
            deleted += cursor.rowcount
        if default_days < longest:  # every project without a setting of its own
            explicit = list(retention_days) or [-1]
            cursor.execute(
                f"DELETE FROM {TABLE} WHERE (project_id, timestamp, id) IN (SELECT project_id, timestamp, id "
                f"FROM {TABLE} WHERE project_id <> ALL(%s) AND timestamp < %s LIMIT 10000)",
                [explicit, now - timedelta(days=default_days)],
            )
            deleted += cursor.rowcount
    return deleted
