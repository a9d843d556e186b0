"""An index on the events' trace id (events without one left out): `trace:` in the issue search
and "issues of this trace" from a log record."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("issues", "0011_hour_bucket_covering_index")]

    operations = [
        migrations.AddIndex(
            model_name="event",
            index=models.Index(
                condition=models.Q(("trace_id", ""), _negated=True),
                fields=["trace_id"],
                name="event_trace_idx",
            ),
        ),
    ]
