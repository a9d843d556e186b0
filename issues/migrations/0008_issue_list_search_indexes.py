"""Indexes for the issue list at 100,000 issues (bench/issue_scale.py). The sorts by first seen,
events and users, and the organization-wide list, read a page in index order instead of sorting
every unresolved issue (130-500 ms each on the benchmark's machine). A tag search starts from the
issues holding the value instead of probing every issue of the project; PostgreSQL also gets
extended statistics on (key, value), without which it estimates `customer_tier = gold` as
key-selectivity x value-selectivity (1,158 rows for 25,000) and picks the wrong side of the join."""

from django.db import migrations, models

STATISTICS = "issuetag_key_value_stats"


def create_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE STATISTICS IF NOT EXISTS {STATISTICS} (mcv, ndistinct) ON key, value FROM issues_issuetag"
        )
        schema_editor.execute("ANALYZE issues_issuetag")


def drop_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")


class Migration(migrations.Migration):
    dependencies = [("issues", "0007_release_resolution_windows")]

    operations = [
        *(
            migrations.AddIndex(model_name="issue", index=models.Index(fields=fields, name=name))
            for fields, name in [
                (["project", "status", "-first_seen"], "issue_list_new_idx"),
                (["project", "status", "-times_seen"], "issue_list_freq_idx"),
                (["project", "status", "-user_count"], "issue_list_users_idx"),
                (["status", "-last_seen"], "issue_status_last_seen_idx"),
            ]
        ),
        migrations.AddIndex(
            model_name="issuetag",
            index=models.Index(fields=["key", "value", "issue"], name="issuetag_key_value_idx"),
        ),
        migrations.RunPython(create_statistics, drop_statistics),
    ]
