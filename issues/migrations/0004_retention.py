from django.db import migrations, models


class AddIndexOnline(migrations.AddIndex):
    """CREATE INDEX CONCURRENTLY on PostgreSQL, so workers keep storing events while the index of a
    large events table builds; a plain CREATE INDEX elsewhere (SQLite has a single writer anyway)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, concurrently=True)


class Migration(migrations.Migration):
    # CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("issues", "0003_payload_dictionary"),
    ]

    operations = [
        migrations.AddField(
            model_name="issue",
            name="retention_times_seen",
            field=models.BigIntegerField(default=0),
        ),
        AddIndexOnline(
            model_name="event",
            index=models.Index(fields=["project", "received"], name="event_project_received_idx"),
        ),
        AddIndexOnline(
            model_name="attachment",
            index=models.Index(fields=["project", "created"], name="attachment_project_created_idx"),
        ),
    ]
