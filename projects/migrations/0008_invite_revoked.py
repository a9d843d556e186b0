"""Invitations can be revoked (projects/members.py): a nullable column, no rewrite."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0007_project_first_event"),
    ]

    operations = [
        migrations.AddField(
            model_name="organizationinvite",
            name="revoked",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
