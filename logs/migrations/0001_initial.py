import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


def create_record_table(apps, schema_editor):
    # The records table is engine-specific (declarative partitioning on PostgreSQL), so it is
    # written in SQL by the backend that reads it.
    if schema_editor.connection.vendor == "postgresql":
        from logs.backends.postgres import SCHEMA
    else:
        from logs.backends.sqlite import SCHEMA
    for statement in SCHEMA:
        schema_editor.execute(statement)


def drop_record_table(apps, schema_editor):
    schema_editor.execute("DROP TABLE IF EXISTS logs_record")


class Migration(migrations.Migration):
    initial = True

    dependencies = [("projects", "0004_project_retention")]

    operations = [
        migrations.CreateModel(
            name="LogRetention",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "days",
                    models.PositiveIntegerField(
                        help_text="Days log records are kept",
                        validators=[django.core.validators.MinValueValidator(1)],
                    ),
                ),
                (
                    "project",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="log_retention",
                        to="projects.project",
                    ),
                ),
            ],
        ),
        migrations.RunPython(create_record_table, drop_record_table),
    ]
