from django.db import models

from projects.models import Organization, Project


class Outcome(models.Model):
    """What happened to the data an organization sent, counted per UTC hour: Sentry's "outcomes".
    Rows written before hours were kept hold a whole day at its 00:00."""

    class Kind(models.TextChoices):
        ACCEPTED = "accepted"
        RATE_LIMITED = "rate_limited"
        INVALID = "invalid"
        CLIENT_DISCARD = "client_discard"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="outcomes")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="outcomes")
    hour = models.DateTimeField()  # start of the UTC hour
    category = models.CharField(max_length=32)
    outcome = models.CharField(max_length=16, choices=Kind.choices)
    reason = models.CharField(max_length=64, blank=True, default="")
    quantity = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "project", "hour", "category", "outcome", "reason"],
                name="uniq_outcome",
            )
        ]


class CountedRecord(models.Model):
    """Something whose outcomes were counted: a buffered ingest record with client reports or
    attachments, or a flushed batch of dropped-data counts. Written in the same transaction as the
    counts, so counting it again (a redelivered batch, a flush retried after a crash) adds nothing."""

    id = models.CharField(max_length=32, primary_key=True)
    counted_at = models.FloatField(db_index=True)
