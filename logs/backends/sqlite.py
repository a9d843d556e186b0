"""SQLite log store of the embedded default: one table (times as integer microseconds, attributes
as JSON text) with the same answers as PostgreSQL; retention is a bounded DELETE by time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from django.db import connection

from core.sql import insert_rows

from ..records import StoredLog
from .sql import TABLE, SqlLogStore, like_pattern, user_id_value

SCHEMA = [
    f"""CREATE TABLE IF NOT EXISTS {TABLE} (
        id text NOT NULL,
        project_id integer NOT NULL,
        timestamp integer NOT NULL,
        trace_id text,
        span_id text NOT NULL DEFAULT '',
        level text NOT NULL,
        severity_number integer NOT NULL,
        body text NOT NULL,
        attributes text NOT NULL,
        user_id text,
        PRIMARY KEY (project_id, timestamp, id)
    ) WITHOUT ROWID""",
    f"CREATE INDEX IF NOT EXISTS logs_record_trace_idx ON {TABLE} (trace_id) WHERE trace_id IS NOT NULL",
    f"CREATE INDEX IF NOT EXISTS logs_record_level_idx ON {TABLE} (project_id, level, timestamp)",
    f"CREATE INDEX IF NOT EXISTS logs_record_user_idx ON {TABLE} (project_id, user_id, timestamp) "
    "WHERE user_id IS NOT NULL",
]
_COLUMNS = [
    "id",
    "project_id",
    "timestamp",
    "trace_id",
    "span_id",
    "level",
    "severity_number",
    "body",
    "attributes",
    "user_id",
]
_JSON_TYPES = {bool: None, int: ("integer", "real"), float: ("integer", "real"), str: ("text",)}
_DELETE_CHUNK = 10_000


def micros(value: datetime) -> int:
    return round(value.timestamp() * 1_000_000)


def _path(key: str) -> str:
    return '$."' + key.replace('"', "") + '"'


class SqliteLogStore(SqlLogStore):
    false = "0"

    def time_param(self, value: datetime) -> Any:
        return micros(value)

    def time_value(self, value: Any) -> datetime:
        return datetime.fromtimestamp(value / 1_000_000, UTC)

    def attribute_equals(self, key: str, value: Any) -> tuple[str, list]:
        if isinstance(value, bool):
            return "json_type(attributes, %s) = %s", [_path(key), "true" if value else "false"]
        types = _JSON_TYPES[type(value)] or ()
        quoted = ", ".join(f"'{t}'" for t in types)
        sql = f"(json_type(attributes, %s) IN ({quoted}) AND json_extract(attributes, %s) = %s)"
        return sql, [_path(key), _path(key), value]

    def attribute_like(self, key: str, pattern: str) -> tuple[str, list]:
        sql = "(json_type(attributes, %s) = 'text' AND json_extract(attributes, %s) LIKE %s ESCAPE '\\')"
        return sql, [_path(key), _path(key), pattern]

    def attribute_compare(self, key: str, operator: str, number: float) -> tuple[str, list]:
        sql = (
            "CASE WHEN json_type(attributes, %s) IN ('integer', 'real') "
            f"THEN json_extract(attributes, %s) {operator} %s END"
        )
        return sql, [_path(key), _path(key), number]

    def body_contains(self, text: str) -> tuple[str, list]:
        # LIKE is case-insensitive for ASCII in SQLite, as ILIKE is on PostgreSQL.
        return "body LIKE %s ESCAPE '\\'", [like_pattern(text)]

    def bucket_expression(self, seconds: int) -> str:
        return f"(timestamp / {seconds * 1_000_000})"

    def write(self, records: list[StoredLog]) -> set[str]:
        rows = [
            (
                r.id, r.project_id, micros(r.timestamp), r.trace_id or None, r.span_id, r.level,
                r.severity_number, r.body, orjson.dumps(r.attributes).decode(), user_id_value(r.attributes),
            )
            for r in records
        ]  # fmt: skip
        inserted = insert_rows(
            TABLE, _COLUMNS, rows, conflict=["project_id", "timestamp", "id"], returning=["id"], chunk=100
        )
        return {str(row[0]).replace("-", "") for row in inserted}

    def prepare(self, now: datetime) -> None:
        """One table: nothing to create ahead."""

    def expire(self, now: datetime, retention_days: dict[int, int], default_days: int) -> int:
        deleted = 0
        with connection.cursor() as cursor:
            for project_id, days in sorted(retention_days.items()):
                deleted += _delete_older(cursor, "project_id = %s", [project_id], now - timedelta(days=days))
            explicit = list(retention_days) or [-1]
            marks = ", ".join(["%s"] * len(explicit))
            cutoff = now - timedelta(days=default_days)
            deleted += _delete_older(cursor, f"project_id NOT IN ({marks})", explicit, cutoff)
        return deleted


def _delete_older(cursor, where: str, params: list, cutoff: datetime) -> int:
    cursor.execute(
        f"DELETE FROM {TABLE} WHERE (project_id, timestamp, id) IN (SELECT project_id, timestamp, id "
        f"FROM {TABLE} WHERE {where} AND timestamp < %s LIMIT {_DELETE_CHUNK})",
        [*params, micros(cutoff)],
    )
    return cursor.rowcount
