"""PostgreSQL: the attributes every record of a process repeats, stored once per distinct set, a
string `user.id` in its column only, template parameters in a column apart (logs/attribute_sets.py), and the span id as bytes
(logs/backends/postgres.py). Records stored before are moved, in chunks in key order. SQLite keeps
every attribute in the record."""

import orjson
from django.db import migrations

CHUNK = 5000


def move_shared_attributes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from logs.backends.postgres import ATTRIBUTE_SETS, SPAN_AS_BYTES, TABLE

    for statement in ATTRIBUTE_SETS:
        schema_editor.execute(statement)
    after = None
    with schema_editor.connection.cursor() as cursor:
        while True:
            keyset = "AND (project_id, timestamp, id) > (%s, %s, %s)" if after else ""
            cursor.execute(
                f"SELECT project_id, timestamp, id, attributes FROM {TABLE} WHERE attribute_set_id IS NULL "
                f"{keyset} ORDER BY project_id, timestamp, id LIMIT {CHUNK}",
                list(after or ()),
            )
            rows = cursor.fetchall()
            if not rows:
                break
            after = rows[-1][:3]
            _move(cursor, rows)
        cursor.execute(
            "SELECT data_type FROM information_schema.columns WHERE table_name = %s AND column_name = 'span_id'",
            [TABLE],
        )
        if cursor.fetchone()[0] == "text":
            schema_editor.execute(SPAN_AS_BYTES)


def _move(cursor, rows):
    from logs.attribute_sets import set_id, split_attributes
    from logs.backends.postgres import TABLE, _jsonb_text, upsert_sets

    sets: dict[int, dict] = {}
    for project_id, moment, record_id, attributes in rows:
        stored = orjson.loads(attributes) if isinstance(attributes, str) else attributes
        shared, own, parameters = split_attributes(stored)
        key = set_id(shared)
        if key is None and own == stored:
            continue
        if key is not None:
            sets[key] = shared
        cursor.execute(
            f"UPDATE {TABLE} SET attribute_set_id = %s, attributes = %s::jsonb, parameters = %s::jsonb "
            "WHERE project_id = %s AND timestamp = %s AND id = %s",
            [
                key,
                _jsonb_text(own),
                _jsonb_text(parameters) if parameters else None,
                project_id,
                moment,
                record_id,
            ],
        )
    upsert_sets(sets)


class Migration(migrations.Migration):
    dependencies = [("logs", "0002_narrow_level_and_user_indexes")]

    operations = [migrations.RunPython(move_shared_attributes, migrations.RunPython.noop)]
