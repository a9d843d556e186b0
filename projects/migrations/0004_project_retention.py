from django.core.validators import MinValueValidator
from django.db import migrations, models

import projects.models


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0003_organization_monthly_event_quota_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="project",
            name="retention_days",
            field=models.PositiveIntegerField(
                default=projects.models.default_retention_days,
                help_text="Days events are kept",
                validators=[MinValueValidator(1)],
            ),
        ),
        migrations.AddField(
            model_name="project",
            name="max_events_per_issue",
            field=models.PositiveIntegerField(
                default=projects.models.default_max_events_per_issue,
                help_text="Newest events kept per issue",
                validators=[MinValueValidator(1)],
            ),
        ),
    ]
