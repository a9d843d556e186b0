"""Hour buckets and hour-user rows carry the environment ('' for events without one), hour buckets
their issue's project (issues/buckets.py, issues/stream.py: the stream's counts within the selected
environments, one index per project for a range aggregate, 0017).

Existing rows: `project` is the issue's. The environment of a row written before this migration is
not known; an issue whose events were all in one environment (one `environment` tag value) gets its
rows attributed to it, the others keep '' (counted when no environment is selected, never within
one: a count within an environment is never inflated by events of another).
"""

import django.db.models.deletion
from django.db import migrations, models

SINGLE_ENVIRONMENT = (
    "SELECT CASE WHEN COUNT(*) = 1 THEN MIN(t.value) END FROM issues_issuetag t "
    "WHERE t.key = 'environment' AND t.issue_id = {table}.issue_id"
)


def backfill(apps, schema_editor):
    execute = schema_editor.execute
    execute(
        "UPDATE issues_issuehourbucket SET project_id = "
        "(SELECT i.project_id FROM issues_issue i WHERE i.id = issues_issuehourbucket.issue_id)"
    )
    for table in ("issues_issuehourbucket", "issues_issuehouruser"):
        lone = SINGLE_ENVIRONMENT.format(table=table)
        execute(f"UPDATE {table} SET environment = COALESCE(({lone}), '')")


class Migration(migrations.Migration):
    dependencies = [
        ("issues", "0015_issue_pending_deletion"),
        ("projects", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="issuehourbucket",
            name="project",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="projects.project",
            ),
        ),
        migrations.AddField(
            model_name="issuehourbucket",
            name="environment",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="issuehouruser",
            name="environment",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RemoveConstraint(model_name="issuehourbucket", name="uniq_issue_hour_bucket"),
        migrations.AddConstraint(
            model_name="issuehourbucket",
            constraint=models.UniqueConstraint(
                fields=("issue", "hour", "environment"), name="uniq_issue_hour_env_bucket"
            ),
        ),
        migrations.RemoveConstraint(model_name="issuehouruser", name="uniq_issue_hour_user"),
        migrations.AddConstraint(
            model_name="issuehouruser",
            constraint=models.UniqueConstraint(
                fields=("issue", "hour", "environment", "user_key"), name="uniq_issue_hour_env_user"
            ),
        ),
        # Last: on PostgreSQL the UPDATE of a foreign key column leaves deferred trigger events that
        # a later ALTER TABLE of this transaction would refuse (0015 makes the column NOT NULL).
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
