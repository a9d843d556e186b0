"""The level and user indexes of the PostgreSQL log store without the timestamp: deduplicated B-tree
entries, a few bytes a record instead of 50-60 (logs/backends/postgres.py, NARROW_INDEXES).
Dropping an index of a partitioned table drops it on every partition; creating it creates them."""

from django.db import migrations


def narrow(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite keeps its (project, level, timestamp) index: it has no deduplication
    from logs.backends.postgres import NARROW_INDEXES

    schema_editor.execute("DROP INDEX IF EXISTS logs_record_level_idx")
    schema_editor.execute("DROP INDEX IF EXISTS logs_record_user_idx")
    for statement in NARROW_INDEXES:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("logs", "0001_initial")]

    operations = [migrations.RunPython(narrow, migrations.RunPython.noop)]
