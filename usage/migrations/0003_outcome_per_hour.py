"""Outcomes are counted per UTC hour instead of per day. A row of a day becomes a row of that day's
00:00 hour: daily sums stay exact, and an hourly series shows the day's whole count at midnight."""

from datetime import UTC, datetime, time

from django.db import migrations, models


def day_to_hour(apps, schema_editor):
    Outcome = apps.get_model("usage", "Outcome")
    days = Outcome.objects.values_list("day", flat=True).distinct().order_by()
    for day in list(days):  # one UPDATE per day kept, not per row
        Outcome.objects.filter(day=day).update(hour=datetime.combine(day, time(), tzinfo=UTC))


class Migration(migrations.Migration):
    dependencies = [
        ("usage", "0002_countedrecord"),
    ]

    operations = [
        migrations.AddField(model_name="outcome", name="hour", field=models.DateTimeField(null=True)),
        migrations.RunPython(day_to_hour, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="outcome", name="uniq_outcome"),
        migrations.RemoveField(model_name="outcome", name="day"),
        migrations.AlterField(model_name="outcome", name="hour", field=models.DateTimeField()),
        migrations.AddConstraint(
            model_name="outcome",
            constraint=models.UniqueConstraint(
                fields=("organization", "project", "hour", "category", "outcome", "reason"),
                name="uniq_outcome",
            ),
        ),
    ]
