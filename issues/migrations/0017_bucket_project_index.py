"""Hour buckets' project is required, and a project's range aggregate (the stream's events and users
per issue in the selected range and environments, its freq/user/trends sorts) reads one index:
(project_id, hour) INCLUDE (issue_id, environment, times_seen, users) on PostgreSQL, index-only.
The page's own buckets (by issue) read (issue_id, hour) INCLUDE (environment, times_seen, users),
which replaces 0011's (issue_id, hour) INCLUDE (times_seen). SQLite has no covering indexes (Django
would warn on every migrate): a plain (project_id, hour) index there.
Figures: README, "Issue stream" (bench/issue_scale.py)."""

import django.db.models.deletion
from django.db import migrations, models

POSTGRES = [
    (
        "CREATE INDEX IF NOT EXISTS issue_hour_bucket_project_idx ON issues_issuehourbucket "
        "(project_id, hour) INCLUDE (issue_id, environment, times_seen, users)",
        "DROP INDEX IF EXISTS issue_hour_bucket_project_idx",
    ),
    (
        "CREATE INDEX IF NOT EXISTS issue_hour_bucket_issue_cover_idx ON issues_issuehourbucket "
        "(issue_id, hour) INCLUDE (environment, times_seen, users)",
        "DROP INDEX IF EXISTS issue_hour_bucket_issue_cover_idx",
    ),
    (
        "DROP INDEX IF EXISTS issue_hour_bucket_sum_idx",
        "CREATE INDEX IF NOT EXISTS issue_hour_bucket_sum_idx ON issues_issuehourbucket "
        "(issue_id, hour) INCLUDE (times_seen)",
    ),
]
SQLITE = [
    (
        "CREATE INDEX IF NOT EXISTS issue_hour_bucket_project_idx ON issues_issuehourbucket (project_id, hour)",
        "DROP INDEX IF EXISTS issue_hour_bucket_project_idx",
    )
]


def create(apps, schema_editor):
    for forward, _ in POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE:
        schema_editor.execute(forward)


def drop(apps, schema_editor):
    for _, backward in reversed(POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE):
        schema_editor.execute(backward)


class Migration(migrations.Migration):
    dependencies = [("issues", "0016_bucket_environment")]

    operations = [
        migrations.AlterField(
            model_name="issuehourbucket",
            name="project",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="projects.project",
            ),
        ),
        migrations.RunPython(create, drop),
    ]
