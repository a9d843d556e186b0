"""Issues can be pending deletion (Sentry's status): hidden at once, their rows removed by a task
(issues/deletion.py). Only the choices and the default manager change: no SQL."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("issues", "0014_issue_inbox"),
    ]

    operations = [
        migrations.AlterModelOptions(name="issue", options={"default_manager_name": "objects"}),
        migrations.AlterField(
            model_name="issue",
            name="status",
            field=models.CharField(
                choices=[
                    ("unresolved", "Unresolved"),
                    ("resolved", "Resolved"),
                    ("ignored", "Ignored"),
                    ("pending_deletion", "Pending Deletion"),
                ],
                default="unresolved",
                max_length=16,
            ),
        ),
    ]
