"""A project's first event (Sentry's `firstEvent`). Projects that already have issues get the first
seen time of their oldest issue still kept (events older than retention are gone either way)."""

from django.db import migrations, models
from django.db.models import Min


def backfill(apps, schema_editor):
    Project = apps.get_model("projects", "Project")
    Issue = apps.get_model("issues", "Issue")
    firsts = Issue.objects.values("project_id").annotate(first=Min("first_seen")).order_by()
    for row in firsts:
        Project.objects.filter(pk=row["project_id"]).update(first_event=row["first"])


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0006_teams_invites"),
        ("issues", "0007_release_resolution_windows"),
    ]

    operations = [
        migrations.AddField(
            model_name="project", name="first_event", field=models.DateTimeField(blank=True, null=True)
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
