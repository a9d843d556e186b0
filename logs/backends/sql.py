"""What the SQL backends share: a search's terms compiled to one WHERE clause, and the reads.

Each dialect (PostgreSQL, SQLite) says how an attribute, a time and a body condition is written;
the order, cursor and shape of the answers are the same, so both backends answer alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from django.db import connection

from ..attribute_sets import USER_ID_KEY, USER_ID_MAX
from ..query.parser import AttributeTerm, CompareTerm, LevelTerm, Term, TextTerm, TraceTerm
from ..records import LogQuery, StoredLog

TABLE = "logs_record"
COLUMNS = ("id", "project_id", "timestamp", "trace_id", "span_id", "level", "severity_number", "body")
_COLUMN_NUMBERS = {"severity_number": "severity_number"}
# `user.id` is also a column of its own with a btree index: the planner has statistics for it (it
# has none for jsonb containment and would scan a day of records in time order for one user).


def user_id_value(attributes: dict) -> str | None:
    """The `user_id` column: the `user.id` attribute as text, whether the SDK sent text or a number."""
    value = attributes.get(USER_ID_KEY)
    return None if value is None or isinstance(value, bool) else str(value)[:USER_ID_MAX]


def like_pattern(text: str, star_is_wildcard: bool = False) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if star_is_wildcard:
        return escaped.replace("*", "%")
    return f"%{escaped}%"


class SqlLogStore:
    """Subclasses define the dialect methods below and `write`, `prepare`, `expire`."""

    false = "FALSE"
    # The expression a search reads a record's attributes with (PostgreSQL merges its attribute set).
    attributes_select = "attributes"

    # --- dialect -----------------------------------------------------------------------------
    def time_param(self, value: datetime) -> Any:
        raise NotImplementedError

    def time_value(self, value: Any) -> datetime:
        raise NotImplementedError

    def id_param(self, value: str) -> Any:
        return value

    def span_value(self, value: Any) -> str:
        return value or ""

    def attributes_value(self, value: Any) -> dict:
        return orjson.loads(value) if isinstance(value, str | bytes) else value

    def attribute_equals(self, key: str, value: Any) -> tuple[str, list]:
        raise NotImplementedError

    def attribute_like(self, key: str, pattern: str) -> tuple[str, list]:
        raise NotImplementedError

    def attribute_compare(self, key: str, operator: str, number: float) -> tuple[str, list]:
        raise NotImplementedError

    def body_contains(self, text: str) -> tuple[str, list]:
        raise NotImplementedError

    def bucket_expression(self, seconds: int) -> str:
        raise NotImplementedError

    # --- shared ------------------------------------------------------------------------------
    def where(self, query: LogQuery) -> tuple[str, list]:
        ids = ", ".join(["%s"] * len(query.project_ids)) or "NULL"
        parts = [f"project_id IN ({ids})", "timestamp >= %s", "timestamp < %s"]
        params: list = [*query.project_ids, self.time_param(query.start), self.time_param(query.end)]
        for term in query.terms:
            sql, term_params = self.term(term)
            # COALESCE: a missing attribute is "does not match", so its negation matches.
            parts.append(f"NOT COALESCE(({sql}), {self.false})" if term.negated else sql)
            params += term_params
        return " AND ".join(parts), params

    def term(self, term: Term) -> tuple[str, list]:
        if isinstance(term, TraceTerm):
            return "trace_id = %s", [self.id_param(term.trace_id)]
        if isinstance(term, LevelTerm):
            return f"level IN ({', '.join(['%s'] * len(term.levels))})", list(term.levels)
        if isinstance(term, TextTerm):
            return self.body_contains(term.text)
        if isinstance(term, CompareTerm):
            if term.key in _COLUMN_NUMBERS:
                return f"{_COLUMN_NUMBERS[term.key]} {term.operator} %s", [term.number]
            return self.attribute_compare(term.key, term.operator, term.number)
        return self._attribute(term)

    def _attribute(self, term: AttributeTerm) -> tuple[str, list]:
        if term.keys == (USER_ID_KEY,) and term.pattern is None:
            ids = sorted({str(v) for v in term.values if not isinstance(v, bool)}) or [""]
            return f"user_id IN ({', '.join(['%s'] * len(ids))})", ids
        alternatives: list[str] = []
        params: list = []
        for key in term.keys:
            if term.pattern is not None:
                sql, more = self.attribute_like(key, like_pattern(term.pattern, star_is_wildcard=True))
                alternatives.append(sql)
                params += more
            for value in term.values:
                sql, more = self.attribute_equals(key, value)
                alternatives.append(sql)
                params += more
        return "(" + " OR ".join(alternatives) + ")", params

    def search(self, query: LogQuery, limit: int) -> list[StoredLog]:
        where, params = self.where(query)
        if query.before is not None:
            where += " AND (timestamp < %s OR (timestamp = %s AND id < %s))"
            moment = self.time_param(query.before[0])
            params += [moment, moment, self.id_param(query.before[1])]
        order = "DESC"
        if query.after is not None:
            where += " AND (timestamp > %s OR (timestamp = %s AND id > %s))"
            moment = self.time_param(query.after[0])
            params += [moment, moment, self.id_param(query.after[1])]
            order = "ASC"
        sql = (
            f"SELECT {', '.join(COLUMNS)}, {self.attributes_select} FROM {TABLE} WHERE {where} "
            f"ORDER BY timestamp {order}, id {order} LIMIT {int(limit)}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            records = [self._record(row) for row in cursor.fetchall()]
        return records[::-1] if order == "ASC" else records

    def _record(self, row: tuple) -> StoredLog:
        return StoredLog(
            id=str(row[0]).replace("-", ""),
            project_id=row[1],
            timestamp=self.time_value(row[2]),
            trace_id=str(row[3] or "").replace("-", ""),
            span_id=self.span_value(row[4]),
            level=row[5],
            severity_number=row[6],
            body=row[7],
            attributes=self.attributes_value(row[8]),
        )

    def histogram(self, query: LogQuery, bucket_seconds: int) -> list[tuple[datetime, int]]:
        where, params = self.where(query)
        bucket = self.bucket_expression(int(bucket_seconds))
        sql = (
            f"SELECT {bucket} AS bucket, COUNT(*) FROM {TABLE} WHERE {where} GROUP BY bucket ORDER BY bucket"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return [(datetime.fromtimestamp(int(b) * bucket_seconds, UTC), n) for b, n in rows]

    def level_counts(self, query: LogQuery) -> dict[str, int]:
        where, params = self.where(query)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT level, COUNT(*) FROM {TABLE} WHERE {where} GROUP BY level", params)
            return dict(cursor.fetchall())
