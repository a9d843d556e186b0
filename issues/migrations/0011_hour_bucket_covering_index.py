"""A covering index for the stream's trend sort (issues/stream.py), which sums each listed issue's
hour buckets: with times_seen in the index the sums are index-only, not one heap page per bucket
(690 -> 81 ms at 100,000 issues, bench/bench_issue_stream.py, since replaced by bench/issue_scale.py;
migration 0017 replaces this index). PostgreSQL only: SQLite has no
covering indexes (Django would warn on every migrate) and reads the unique (issue, hour) index."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS issue_hour_bucket_sum_idx "
            "ON issues_issuehourbucket (issue_id, hour) INCLUDE (times_seen)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS issue_hour_bucket_sum_idx")


class Migration(migrations.Migration):
    dependencies = [("issues", "0010_issue_text_search_trigram")]
    operations = [migrations.RunPython(create, drop)]
