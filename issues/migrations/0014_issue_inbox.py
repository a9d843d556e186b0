"""The review inbox (Sentry's GroupInbox) behind `is:for_review`. Issues that the old approximation
listed (unresolved, new / regressed / escalating, seen within the last 7 days) enter it, so the
"For review" search shows the same issues right after the upgrade; each leaves 7 days after the
moment it entered by that rule (first seen for new issues, last seen for the others)."""

from datetime import timedelta

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

REASONS = {"new": 0, "regressed": 2, "escalating": 5}


def fill_inbox(apps, schema_editor):
    Issue = apps.get_model("issues", "Issue")
    IssueInbox = apps.get_model("issues", "IssueInbox")
    since = django.utils.timezone.now() - timedelta(days=7)
    rows = Issue.objects.filter(status="unresolved", substatus__in=list(REASONS), last_seen__gte=since)
    batch = []
    for pk, substatus, first_seen, last_seen in rows.values_list(
        "pk", "substatus", "first_seen", "last_seen"
    ):
        added = max(first_seen, since) if substatus == "new" else last_seen
        batch.append(IssueInbox(issue_id=pk, reason=REASONS[substatus], date_added=added))
        if len(batch) == 1000:
            IssueInbox.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    IssueInbox.objects.bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("issues", "0013_issue_org_sort_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="activity",
            name="type",
            field=models.CharField(
                choices=[
                    ("set_resolved", "Set Resolved"),
                    ("set_resolved_in_release", "Set Resolved In Release"),
                    ("set_unresolved", "Set Unresolved"),
                    ("set_ignored", "Set Ignored"),
                    ("set_regression", "Set Regression"),
                    ("set_escalating", "Set Escalating"),
                    ("auto_set_ongoing", "Auto Set Ongoing"),
                    ("mark_reviewed", "Mark Reviewed"),
                    ("assigned", "Assigned"),
                    ("unassigned", "Unassigned"),
                    ("note", "Note"),
                    ("merge", "Merge"),
                    ("unmerge_source", "Unmerge Source"),
                    ("unmerge_destination", "Unmerge Destination"),
                ],
                max_length=32,
            ),
        ),
        migrations.CreateModel(
            name="IssueInbox",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "reason",
                    models.PositiveSmallIntegerField(
                        choices=[
                            (0, "New"),
                            (1, "Unignored"),
                            (2, "Regression"),
                            (3, "Manual"),
                            (4, "Reprocessed"),
                            (5, "Escalating"),
                            (6, "Ongoing"),
                        ],
                        default=0,
                    ),
                ),
                ("reason_details", models.JSONField(blank=True, null=True)),
                ("date_added", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "issue",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE, related_name="inbox", to="issues.issue"
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["date_added"], name="issueinbox_date_added_idx")],
            },
        ),
        migrations.RunPython(fill_inbox, migrations.RunPython.noop),
    ]
