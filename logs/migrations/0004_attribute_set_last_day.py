"""PostgreSQL: each attribute set keeps the day of its newest record (`last_day`), so retention can
delete the sets no kept record uses (logs/backends/postgres.py). Sets stored before get today."""

from django.db import migrations


def add_last_day(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from logs.backends.postgres import SETS_LAST_DAY

    schema_editor.execute(SETS_LAST_DAY)


class Migration(migrations.Migration):
    dependencies = [("logs", "0003_attribute_sets_and_span_bytes")]

    operations = [migrations.RunPython(add_last_day, migrations.RunPython.noop)]
