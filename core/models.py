from django.db import models


class Heartbeat(models.Model):
    """The last sign of life of one process in one role ("worker", "scheduler"), for /_health/.

    One row per role, host and process, written by upsert every few seconds (core/heartbeat.py).
    """

    role = models.CharField(max_length=20)
    host = models.CharField(max_length=255)
    pid = models.IntegerField()
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["role", "host", "pid"], name="heartbeat_one_row_per_process")
        ]

    def __str__(self) -> str:
        return f"{self.role} {self.host}:{self.pid}"
