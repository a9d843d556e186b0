"""User feedback: what people who saw an error wrote about it (Sentry's user reports).

One report per event and project, as in Sentry: the event it speaks of (the legacy `user_report`
item's `event_id`, the `feedback` item's `associated_event_id`) or, for feedback about no event,
the feedback's own event id. `issue` is set once that event is stored, whichever came first
(feedback/store.py); reports go with their issue when it is deleted and follow it when merged.
"""

from django.db import models
from django.utils import timezone

from projects.models import Project

# Sentry's column sizes (sentry.models.userreport): longer values are cut to them at ingest.
NAME_MAX = 128
EMAIL_MAX = 75
COMMENTS_MAX = 4096


class UserReport(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    issue = models.ForeignKey(
        "issues.Issue", null=True, blank=True, on_delete=models.CASCADE, related_name="user_reports"
    )
    event_id = models.CharField(max_length=32)
    name = models.CharField(max_length=NAME_MAX, blank=True, default="")
    email = models.CharField(max_length=EMAIL_MAX, blank=True, default="")
    comments = models.TextField()
    date_added = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "event_id"], name="uniq_userreport_event"),
        ]
        indexes = [
            # The project's list, newest first; the issue's list uses the issue FK's index.
            models.Index(fields=["project", "-date_added", "-id"], name="userreport_project_idx"),
            # Reports waiting for their event, which each batch of events looks for (store.link_reports):
            # usually none, so the probe reads a tiny index however many reports are linked.
            models.Index(
                fields=["project", "event_id"],
                condition=models.Q(issue__isnull=True),
                name="userreport_waiting_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id}: {self.comments[:40]}"
