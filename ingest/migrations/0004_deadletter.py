from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ingest", "0003_bufferedenvelope_claimed_by"),
    ]

    operations = [
        migrations.CreateModel(
            name="DeadLetter",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("payload", models.BinaryField()),
                ("project_id", models.BigIntegerField(blank=True, null=True)),
                ("error", models.CharField(max_length=500)),
                ("traceback", models.TextField(blank=True, default="")),
                ("created", models.DateTimeField(auto_now_add=True, db_index=True)),
            ],
        ),
    ]
