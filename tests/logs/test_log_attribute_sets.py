"""PostgreSQL keeps the attributes every record of a process repeats once per distinct set."""

import importlib
import json

import pytest
from django.db import connection

from logs.attribute_sets import set_id, split_attributes

from .conftest import all_records
from .factories import log_record, store_logs

pytestmark = pytest.mark.django_db
PROCESS = {"sentry.release": "shop@1.0", "sentry.sdk.name": "sentry.python", "server.address": "web-3"}


def test_shared_keys_are_split_by_key_and_their_set_id_by_typed_values():
    shared, own, parameters = split_attributes(
        {**PROCESS, "order": 42, "sentry.message.parameter.order": "A-42", "user.id": "7"}
    )
    assert shared == PROCESS and own == {"order": 42} and parameters == {"order": "A-42"}  # user.id: a column
    assert split_attributes({"user.id": 7}) == ({}, {"user.id": 7}, {})  # an integer keeps its type here
    assert set_id(dict(reversed(PROCESS.items()))) == set_id(PROCESS)  # order does not matter
    assert set_id({"service.version": 1}) != set_id({"service.version": "1"}) and set_id({}) is None


def _sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


@pytest.mark.postgresql
def test_each_distinct_set_is_stored_once_and_records_keep_only_their_own(make_project):
    project = make_project()[0]
    store_logs([log_record(project.id, f"a{n}", attributes={**PROCESS, "n": n}) for n in range(3)])
    store_logs([log_record(project.id, "b", attributes={**PROCESS, "n": 9})])  # a later batch, same set
    store_logs([log_record(project.id, "c", attributes={**PROCESS, "sentry.release": "shop@2.0"})])
    assert _sql("SELECT count(*) FROM logs_record_attribute_set") == [(2,)]
    own = _sql("SELECT attributes FROM logs_record WHERE body = 'b'")[0][0]
    assert json.loads(own) == {"n": 9}
    assert {r.body: r.attributes for r in all_records([project.id])}["b"] == {**PROCESS, "n": 9}


@pytest.mark.postgresql
def test_the_migration_moves_the_attributes_of_records_stored_before(make_project):
    project = make_project()[0]
    stored_before = {**PROCESS, "user.id": "u", "sentry.message.parameter.order": "A-1"}
    store_logs([log_record(project.id, f"r{n}", attributes={**stored_before, "n": n}) for n in range(3)])
    # As records were stored before: every attribute in the record's attributes column.
    _sql(
        "UPDATE logs_record SET attributes = %s::jsonb || attributes, attribute_set_id = NULL, parameters = NULL",
        [json.dumps(stored_before)],
    )
    _sql("DELETE FROM logs_record_attribute_set")
    migration = importlib.import_module("logs.migrations.0003_attribute_sets_and_span_bytes")
    migration.move_shared_attributes(None, connection.schema_editor())
    assert _sql(
        "SELECT DISTINCT attributes ?| %s, attribute_set_id, parameters::text FROM logs_record",
        [["sentry.release", "user.id", "sentry.message.parameter.order"]],
    ) == [(False, set_id(PROCESS), '{"order": "A-1"}')]
    records = all_records([project.id])
    assert sorted(r.attributes["n"] for r in records) == [0, 1, 2]
    assert all(r.attributes == {**stored_before, "n": r.attributes["n"]} for r in records)


@pytest.mark.postgresql
def test_a_span_id_that_is_not_hex_is_stored_as_none_and_its_batch_is_kept(make_project):
    project = make_project()[0]
    store_logs(
        [
            log_record(project.id, "scrubbed", span_id="[Filtered]"),
            log_record(project.id, "ok", span_id="ab" * 8),
        ]
    )
    assert {r.body: r.span_id for r in all_records([project.id])} == {"scrubbed": "", "ok": "ab" * 8}
