"""Affected users keep their identifiers (id, email, username, IP address) as columns, each with a
partial index (value, issue) for the issue search's `user.*:` terms. Nullable columns: an ADD COLUMN
without a table rewrite on both databases, and the indexes start empty (0015 fills them)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("issues", "0017_bucket_project_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="issueuser",
            name="email",
            field=models.CharField(blank=True, max_length=75, null=True),
        ),
        migrations.AddField(
            model_name="issueuser",
            name="ident",
            field=models.CharField(blank=True, max_length=128, null=True),
        ),
        migrations.AddField(
            model_name="issueuser",
            name="ip_address",
            field=models.CharField(blank=True, max_length=45, null=True),
        ),
        migrations.AddField(
            model_name="issueuser",
            name="username",
            field=models.CharField(blank=True, max_length=128, null=True),
        ),
        migrations.AddIndex(
            model_name="issueuser",
            index=models.Index(
                condition=models.Q(("ident__isnull", False)),
                fields=["ident", "issue"],
                name="issueuser_ident_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="issueuser",
            index=models.Index(
                condition=models.Q(("email__isnull", False)),
                fields=["email", "issue"],
                name="issueuser_email_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="issueuser",
            index=models.Index(
                condition=models.Q(("username__isnull", False)),
                fields=["username", "issue"],
                name="issueuser_username_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="issueuser",
            index=models.Index(
                condition=models.Q(("ip_address__isnull", False)),
                fields=["ip_address", "issue"],
                name="issueuser_ip_address_idx",
            ),
        ),
    ]
