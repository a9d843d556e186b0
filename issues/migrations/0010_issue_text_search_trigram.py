"""Trigram indexes for the issue search's free text (`title` or `culprit` contains, which Django
writes as UPPER(column::text) LIKE UPPER(...)), PostgreSQL only: without them a text search reads
every issue of the project. pg_trgm is a trusted extension (PostgreSQL 13+), so the database's
owner may create it; where it cannot be created the search still works, by a scan."""

import logging

from django.db import migrations, transaction

log = logging.getLogger(__name__)
INDEXES = {
    "issue_title_trgm_idx": "title",
    "issue_culprit_trgm_idx": "culprit",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as exc:  # no right to create it: keep the scan
        log.warning("pg_trgm is not available (%s); issue text search will scan", exc)
        return
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON issues_issue USING gin (UPPER({column}::text) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("issues", "0009_saved_search")]
    operations = [migrations.RunPython(create, drop)]
