"""Alert rules, the outbox of trigger facts, fired alerts and their notifications.

The chain, each link idempotent and keyed by the database:
batch transaction -> AlertOutbox row (same transaction: a crash loses or doubles nothing) ->
process_outbox() -> AlertFire, unique per (rule, issue, trigger occurrence) -> Notification, unique
per (fire, recipient or webhook) -> delivered by a task with retries and backoff.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from issues.models import Issue
from projects.models import Project


class AlertRule(models.Model):
    """When (any of `conditions`), if (`filters`, all or any), then (`actions`). Conditions, filters
    and actions are stored in Sentry's shape ({"id": "sentry.rules...", ...}), validated by
    alerts/rules.py, so the API reads and writes them unchanged."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="alert_rules")
    name = models.CharField(max_length=256)
    enabled = models.BooleanField(default=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    conditions = models.JSONField(default=list)
    filters = models.JSONField(default=list)
    filter_match = models.CharField(max_length=8, default="all")
    actions = models.JSONField(default=list)
    # Sentry's `frequency`: minutes before the same rule alerts again for the same issue on a
    # frequency, users or spike trigger (new-issue alerts fire once, regressions always).
    frequency = models.PositiveIntegerField(default=30)
    environment = models.CharField(max_length=64, blank=True, default="")
    is_default = models.BooleanField(default=False)
    # When a project-level trigger (ProjectSpikeCondition) last fired: its action interval is the
    # rule's, not an issue's, claimed by one conditional UPDATE.
    project_fired_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["project", "enabled"], name="alertrule_project_idx")]

    def __str__(self) -> str:
        return self.name


class AlertOutbox(models.Model):
    """Trigger facts of one issue in one stored batch, written in the batch's transaction."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="+")
    is_new = models.BooleanField(default=False)
    is_regression = models.BooleanField(default=False)
    # An ignored issue unresolved by this batch (the issue lifecycle's ignore conditions, escalation).
    is_reappeared = models.BooleanField(default=False)
    events = models.PositiveIntegerField(default=0)
    # The latest event of the batch for this issue: environment, level, release, tags, event_id.
    facts = models.JSONField(default=dict)
    created = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["processed_at", "id"], name="alertoutbox_pending_idx")]


class RuleIssueState(models.Model):
    """When a rule last alerted for an issue on a counting trigger: the action interval, decided by
    one conditional upsert so that concurrent workers cannot both fire."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="+")
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="+")
    last_fired = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "issue"], name="uniq_rule_issue_state")]


class AlertFire(models.Model):
    """One alert: a rule fired for an issue, once per trigger occurrence (the history page)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="fires")
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="+")
    # "new", "regression:<outbox id>", "frequency:<time>", ...: the database keeps it unique.
    occurrence = models.CharField(max_length=64)
    trigger = models.CharField(max_length=32)
    reason = models.CharField(max_length=300, blank=True, default="")
    facts = models.JSONField(default=dict)
    # Over the project's hourly cap: no notification of its own, counted in the summary mail.
    held = models.BooleanField(default=False)
    created = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "issue", "occurrence"], name="uniq_alert_fire")
        ]
        indexes = [models.Index(fields=["project", "-created"], name="alertfire_project_idx")]


class Notification(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    fire = models.ForeignKey(AlertFire, null=True, on_delete=models.CASCADE, related_name="notifications")
    # Unique: "<fire id>:email:<user id>", "<fire id>:webhook:<action index>", "summary:...".
    key = models.CharField(max_length=200, unique=True)
    channel = models.CharField(max_length=16)  # email, webhook, summary
    target = models.CharField(max_length=2000)  # an address or a URL
    options = models.JSONField(default=dict)  # webhook format and secret; summary hour
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=1000, blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notification_due_idx")]


class AlertMute(models.Model):
    """A user who asked for no alert mail from a project (the rules page, or the link in a mail)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "project"], name="uniq_alert_mute")]
