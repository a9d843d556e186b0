"""The per-issue time buckets (issues/buckets.py writes and reads them): events per issue per hour
and environment with their distinct users, per minute for alert triggers, and the hour-user rows
that keep the users exact. Registered through issues/models.py, which imports them."""

from django.db import models


class IssueHourBucket(models.Model):
    """Events and distinct users of one issue in one hour and one environment ('' for events
    without one), by the time the event was received, upserted by the batch writer in the batch's
    transaction (issues/buckets.py). Charts, sparklines, the stream's range counts and the alert
    triggers read these, never the events table: events expire, buckets stay exact. `project` is
    the issue's, copied so a project's range aggregate reads one index (migration 0017)."""

    issue = models.ForeignKey("issues.Issue", on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    hour = models.DateTimeField()
    environment = models.CharField(max_length=64, blank=True, default="")
    times_seen = models.BigIntegerField(default=0)
    users = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["issue", "hour", "environment"], name="uniq_issue_hour_env_bucket"
            )
        ]
        indexes = [models.Index(fields=["hour"], name="issue_hour_bucket_hour_idx")]


class IssueMinuteBucket(models.Model):
    """Events of one issue in one minute, kept a few hours: the short windows of alert triggers."""

    issue = models.ForeignKey("issues.Issue", on_delete=models.CASCADE, related_name="+")
    minute = models.DateTimeField()
    times_seen = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issue", "minute"], name="uniq_issue_minute_bucket")]
        indexes = [models.Index(fields=["minute"], name="issue_minute_bucket_minute_idx")]


class IssueHourUser(models.Model):
    """Which users an issue saw in an hour and environment, kept a day: makes the hourly `users`
    exact under redelivery and concurrent workers, and distinct users over windows of whole hours
    countable (over every environment, or some)."""

    issue = models.ForeignKey("issues.Issue", on_delete=models.CASCADE, related_name="+")
    hour = models.DateTimeField()
    environment = models.CharField(max_length=64, blank=True, default="")
    user_key = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["issue", "hour", "environment", "user_key"], name="uniq_issue_hour_env_user"
            )
        ]
        indexes = [models.Index(fields=["hour"], name="issue_hour_user_hour_idx")]
