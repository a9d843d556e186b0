"""The logs app's own tables. The records themselves live in `logs_record`, created by the
migration per database engine (partitioned by day on PostgreSQL), and are only read and written
through the log store (logs/store.py); this model holds per-project settings."""

from django.core.validators import MinValueValidator
from django.db import models

from projects.models import Project


class LogRetention(models.Model):
    """Days a project keeps its log records, when not the `LOG_RETENTION_DAYS` default."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="log_retention")
    days = models.PositiveIntegerField(
        validators=[MinValueValidator(1)], help_text="Days log records are kept"
    )

    def __str__(self) -> str:
        return f"{self.project}: {self.days} days"
