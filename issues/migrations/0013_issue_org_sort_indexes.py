"""The organization-wide issue list's sorts by first seen, events and users read a page in index
order, as by last seen does (0008). bench/issue_scale.py at 100,000 issues: the organization's
list by events 249 -> 39 ms."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("issues", "0012_event_trace_index")]

    operations = [
        migrations.AddIndex(model_name="issue", index=models.Index(fields=fields, name=name))
        for fields, name in [
            (["status", "-first_seen"], "issue_status_first_seen_idx"),
            (["status", "-times_seen"], "issue_status_times_seen_idx"),
            (["status", "-user_count"], "issue_status_user_count_idx"),
        ]
    ]
