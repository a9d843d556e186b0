"""PostgreSQL: the attributes every record of a process repeats, stored once per distinct set
(logs/attribute_sets.py, logs/backends/postgres.py). Records stored before move theirs there, in
chunks in time order. SQLite keeps every attribute in the record."""

import orjson
from django.db import migrations

CHUNK = 5000


def move_shared_attributes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from logs.attribute_sets import set_id, split_attributes
    from logs.backends.postgres import ATTRIBUTE_SETS, TABLE, _jsonb_text, upsert_sets

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
                return
            after = rows[-1][:3]
            _move(cursor, rows, split_attributes, set_id, upsert_sets, _jsonb_text, TABLE)


def _move(cursor, rows, split_attributes, set_id, upsert_sets, dumps, table):
    sets: dict[int, dict] = {}
    for project_id, moment, record_id, attributes in rows:
        shared, own = split_attributes(
            orjson.loads(attributes) if isinstance(attributes, str) else attributes
        )
        key = set_id(shared)
        if key is None:
            continue
        sets[key] = shared
        cursor.execute(
            f"UPDATE {table} SET attribute_set_id = %s, attributes = %s::jsonb "
            "WHERE project_id = %s AND timestamp = %s AND id = %s",
            [key, dumps(own), project_id, moment, record_id],
        )
    upsert_sets(sets)


class Migration(migrations.Migration):
    dependencies = [("logs", "0002_narrow_level_and_user_indexes")]

    operations = [migrations.RunPython(move_shared_attributes, migrations.RunPython.noop)]
