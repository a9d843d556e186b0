"""Multi-row INSERT ... ON CONFLICT helpers that run unchanged on SQLite (>= 3.35) and PostgreSQL.

Uniqueness is the database's job: callers insert and learn from RETURNING which rows were new,
instead of SELECTing first, so concurrent workers never double count.
"""

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import connection


def _value_adapter() -> Callable[[Any], Any]:
    """Datetimes as the connection's backend stores them (a string in UTC on SQLite), the rest as is.
    One adapter per statement: the batch writer's rows repeat a few datetimes (the batch's time,
    each event's) tens of times per event, so each distinct one is converted once."""
    adapt_datetime = connection.ops.adapt_datetimefield_value
    adapted: dict[datetime, Any] = {}

    def adapt(value: Any) -> Any:
        if not isinstance(value, datetime):
            return value
        if value not in adapted:
            adapted[value] = adapt_datetime(value)
        return adapted[value]

    return adapt


def insert_rows(
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    conflict: Sequence[str] | None = None,
    update_sql: str | None = None,
    returning: Sequence[str] = (),
    chunk: int = 500,
) -> list[tuple]:
    """INSERT rows; on a unique conflict do nothing or run `update_sql` (a SET clause body)."""
    adapt_value = _value_adapter()
    rows = [tuple([adapt_value(v) for v in row]) for row in rows]
    results: list[tuple] = []
    if not rows:
        return results
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    tail = ""
    if conflict:
        action = f"DO UPDATE SET {update_sql}" if update_sql else "DO NOTHING"
        tail = f" ON CONFLICT ({', '.join(conflict)}) {action}"
    if returning:
        tail += f" RETURNING {', '.join(returning)}"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            sql = (
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([row_sql] * len(part))}{tail}"
            )
            cursor.execute(sql, [v for row in part for v in row])
            if returning:
                results.extend(cursor.fetchall())
    return results


def fetch(sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        adapt_value = _value_adapter()
        cursor.execute(sql, [adapt_value(p) for p in params])
        return cursor.fetchall()


def execute(sql: str, params: Sequence[Any] = ()) -> None:
    with connection.cursor() as cursor:
        adapt_value = _value_adapter()
        cursor.execute(sql, [adapt_value(p) for p in params])


def placeholders(n: int) -> str:
    return ", ".join(["%s"] * n)


def copy_rows(
    table: str, columns: Sequence[str], types: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """PostgreSQL only: rows straight into `table` by one binary COPY (a partitioned table routes
    each row to its partition). Any constraint it breaks fails the whole COPY."""
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(list(types))
            for row in rows:
                copy.write_row(row)


def copy_upsert(
    table: str,
    columns: Sequence[str],
    types: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    conflict: Sequence[str],
    update_sql: str | None = None,
    returning: Sequence[str] = (),
) -> list[tuple]:
    """PostgreSQL only: the same as insert_rows, through a binary COPY into a per-connection temporary
    table and one INSERT ... SELECT ... ON CONFLICT. A large multi-row INSERT (payloads hex-encoded as
    text, every parameter adapted in Python) cost the worker several tenths of a ms per event.
    Must run inside a transaction: the temporary table empties itself at commit."""
    if not rows:
        return []
    names = ", ".join(columns)
    scratch = f"batch_{table}"
    action = f"DO UPDATE SET {update_sql}" if update_sql else "DO NOTHING"
    tail = f" RETURNING {', '.join(returning)}" if returning else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {scratch} ON COMMIT DELETE ROWS AS "
            f"SELECT {names} FROM {table} WITH NO DATA"
        )
        raw = cursor.cursor  # psycopg's own cursor under Django's wrapper: it has copy()
        with raw.copy(f"COPY {scratch} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(list(types))
            for row in rows:
                copy.write_row(row)
        # ORDER BY: rows are locked in a stable order, so concurrent batches cannot deadlock.
        order = ", ".join(conflict)
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {scratch} ORDER BY {order} "
            f"ON CONFLICT ({order}) {action}{tail}"
        )
        result = cursor.fetchall() if returning else []
        cursor.execute(f"TRUNCATE {scratch}")
    return result


def upsert(
    table: str,
    columns: Sequence[str],
    types: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    conflict: Sequence[str],
    update_sql: str | None = None,
    returning: Sequence[str] = (),
) -> list[tuple]:
    """insert_rows, through COPY on PostgreSQL (`types` are the binary COPY types of `columns`)."""
    if connection.vendor == "postgresql":
        return copy_upsert(
            table, columns, types, rows, conflict=conflict, update_sql=update_sql, returning=returning
        )
    return insert_rows(
        table, columns, rows, conflict=conflict, update_sql=update_sql, returning=returning, chunk=100
    )


def drop_broken_connection() -> None:
    """After a database error: close this thread's connection if it is unusable, so the next attempt
    connects afresh once the database is back (never inside a transaction, such as a test's)."""
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()
