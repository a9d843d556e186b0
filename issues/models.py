"""Issues and the events grouped into them.

Counters (times_seen, user_count, tag counts) are maintained by the batch writer in
issues/store.py with set-based upserts, so several workers can write at once without lost updates.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from projects.models import Organization, Project, Team


class VisibleIssueManager(models.Manager):
    """Issue.objects: every issue but those pending deletion, which are gone for everyone (lists,
    search, pages, API, alerts) from the moment they are marked. Only issues/deletion.py, which
    removes their rows, and the lifecycle's mark read them, through Issue.all_objects."""

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().exclude(status=Issue.Status.PENDING_DELETION)


class Issue(models.Model):
    class Status(models.TextChoices):
        UNRESOLVED = "unresolved"
        RESOLVED = "resolved"
        IGNORED = "ignored"
        # Sentry's PENDING_DELETION: marked by issues/lifecycle.delete, removed by a task
        # (issues/deletion.py). No client may ask for it (lifecycle.parse_status refuses it).
        PENDING_DELETION = "pending_deletion"

    class Substatus(models.TextChoices):
        NEW = "new"
        ONGOING = "ongoing"
        REGRESSED = "regressed"
        ESCALATING = "escalating"
        ARCHIVED_UNTIL_ESCALATING = "archived_until_escalating"
        ARCHIVED_UNTIL_CONDITION_MET = "archived_until_condition_met"
        ARCHIVED_FOREVER = "archived_forever"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="issues")
    short_id = models.BigIntegerField()
    title = models.CharField(max_length=255)
    culprit = models.CharField(max_length=200, blank=True, default="")
    type = models.CharField(max_length=32, default="error")
    level = models.CharField(max_length=16, default="error")
    platform = models.CharField(max_length=64, default="other")
    metadata = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UNRESOLVED)
    # Empty for resolved issues and those pending deletion (Sentry's null). Every change goes
    # through issues/lifecycle.py.
    substatus = models.CharField(max_length=32, choices=Substatus.choices, default=Substatus.NEW, blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    first_release = models.CharField(max_length=200, blank=True, default="")
    last_release = models.CharField(max_length=200, blank=True, default="")
    times_seen = models.BigIntegerField(default=0)
    user_count = models.BigIntegerField(default=0)
    resolved_at = models.DateTimeField(null=True, blank=True)
    grouping_config = models.CharField(max_length=64, default="newstyle:2023-01-11")
    # times_seen when retention last left at most the project's cap of events stored: only an issue
    # whose times_seen grew past it can hold too many events (see issues/retention.py).
    retention_times_seen = models.BigIntegerField(default=0)
    # At most one of the two: a user or a team of the project's organization.
    assignee_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assignee_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    all_objects = models.Manager()
    objects = VisibleIssueManager()

    class Meta:
        # Also what related managers (project.issues) and the admin use.
        default_manager_name = "objects"
        constraints = [models.UniqueConstraint(fields=["project", "short_id"], name="uniq_issue_short_id")]
        indexes = [
            models.Index(fields=["project", "status", "-last_seen"], name="issue_list_idx"),
            # The list's other sorts (first seen, events, users) read a page in index order rather
            # than sorting every issue of the project (bench/issue_scale.py; migration 0008).
            models.Index(fields=["project", "status", "-first_seen"], name="issue_list_new_idx"),
            models.Index(fields=["project", "status", "-times_seen"], name="issue_list_freq_idx"),
            models.Index(fields=["project", "status", "-user_count"], name="issue_list_users_idx"),
            # The organization-wide list: all of its projects' issues in each sort's order.
            models.Index(fields=["status", "-last_seen"], name="issue_status_last_seen_idx"),
            models.Index(fields=["status", "-first_seen"], name="issue_status_first_seen_idx"),
            models.Index(fields=["status", "-times_seen"], name="issue_status_times_seen_idx"),
            models.Index(fields=["status", "-user_count"], name="issue_status_user_count_idx"),
            # The scheduler's `new` -> `ongoing` pass reads only the issues still new.
            models.Index(fields=["substatus", "first_seen"], name="issue_substatus_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def short_id_display(self) -> str:
        return f"{self.project.short_prefix}-{self.short_id}"


class GroupHash(models.Model):
    """One grouping hash of one config; an event joins the issue owning any of its hashes."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE)
    hash = models.CharField(max_length=64)
    config = models.CharField(max_length=64)
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="hashes")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "hash"], name="uniq_project_hash")]


class Event(models.Model):
    """One stored event. Filterable facts are columns; the full payload is zstd-compressed JSON."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE)
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="events")
    event_id = models.CharField(max_length=32)
    timestamp = models.DateTimeField()
    received = models.DateTimeField()
    level = models.CharField(max_length=16)
    platform = models.CharField(max_length=64)
    title = models.CharField(max_length=255)
    release = models.CharField(max_length=200, blank=True, default="")
    environment = models.CharField(max_length=64, blank=True, default="")
    user_key = models.CharField(max_length=64, blank=True, default="")
    trace_id = models.CharField(max_length=32, blank=True, default="")
    # The hash that brought the event in; unmerging a hash moves exactly these events.
    primary_hash = models.CharField(max_length=64, blank=True, default="")
    data = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "event_id"], name="uniq_project_event")]
        indexes = [
            models.Index(fields=["issue", "-timestamp", "-id"], name="event_issue_time_idx"),
            models.Index(fields=["issue", "primary_hash"], name="event_issue_hash_idx"),
            # Retention deletes a project's events by age.
            models.Index(fields=["project", "received"], name="event_project_received_idx"),
            # `trace:` in the issue search and "issues of this trace" from a log record; most
            # events of a busy project carry one, events without are left out of the index.
            models.Index(fields=["trace_id"], name="event_trace_idx", condition=~models.Q(trace_id="")),
        ]


class IssueTag(models.Model):
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="tags")
    key = models.CharField(max_length=200)
    value = models.CharField(max_length=200)
    times_seen = models.BigIntegerField(default=0)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issue", "key", "value"], name="uniq_issue_tag")]
        # A tag search (`customer_tier:gold`) starts from the issues holding the value; the unique
        # index, issue first, only serves the issue page. Migration 0008 adds extended statistics on
        # (key, value) too, so the planner knows that `gold` is common under `customer_tier`.
        indexes = [models.Index(fields=["key", "value", "issue"], name="issuetag_key_value_idx")]


class IssueUser(models.Model):
    """Distinct affected users, by a hash of their best identifier; user_count counts the rows.

    The identifiers the user's events sent (Sentry's EventUser sizes; NULL when not sent) answer
    the issue search's `user.id:`, `user.email:`, `user.username:` and `user.ip:` and the affected
    users tab. The batch writer fills them in the statement that inserts the row, and fills a
    missing one when a later event of the same user carries it (issues/eventinfo.user_identifiers).
    """

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="+")
    user_key = models.CharField(max_length=64)
    # NULL, not "", for "not sent": the writer fills a missing one with COALESCE, and both databases
    # add a nullable column without copying the table (SQLite rebuilds it for a default).
    ident = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001
    email = models.CharField(max_length=75, null=True, blank=True)  # noqa: DJ001
    username = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001
    ip_address = models.CharField(max_length=45, null=True, blank=True)  # noqa: DJ001

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issue", "user_key"], name="uniq_issue_user")]
        # `user.email:x` starts from the users holding the value (one index range, issue ids
        # included); users without the identifier are left out of its index.
        indexes = [
            models.Index(
                fields=[column, "issue"],
                name=f"issueuser_{column}_idx",
                condition=models.Q(**{f"{column}__isnull": False}),
            )
            for column in ("ident", "email", "username", "ip_address")
        ]


class Attachment(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE)
    event_id = models.CharField(max_length=32)
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=128, blank=True, default="")
    attachment_type = models.CharField(max_length=64, default="event.attachment")
    size = models.BigIntegerField()
    data = models.BinaryField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Reprocessing an envelope after a worker crash must not store its attachments twice.
        constraints = [
            models.UniqueConstraint(fields=["project", "event_id", "name"], name="uniq_event_attachment")
        ]
        indexes = [models.Index(fields=["project", "created"], name="attachment_project_created_idx")]


class PayloadDictionary(models.Model):
    """A zstd dictionary trained on a project's own stored payloads.

    Events of one project repeat most of their bytes (source lines, module lists, SDK and request
    shapes), which per-event compression cannot see; with a dictionary a payload shrinks ~6x. The
    zstd frame header names the dictionary id, so events need no column to say which one they use.
    A dictionary is immutable and kept while events compressed with it may still exist.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    dict_id = models.BigIntegerField(unique=True)
    data = models.BinaryField()
    samples = models.IntegerField()
    created = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["project", "-created"], name="payload_dict_latest_idx")]


class IssueSnooze(models.Model):
    """What ends an ignore (Sentry's GroupSnooze): a time, N more events or N more users.

    The counts at the moment of ignoring are kept, so "N more" compares against the issue's own
    counters that the batch writer already maintains.
    """

    issue = models.OneToOneField(Issue, on_delete=models.CASCADE, related_name="snooze")
    until = models.DateTimeField(null=True, blank=True)
    count = models.PositiveIntegerField(null=True, blank=True)
    user_count = models.PositiveIntegerField(null=True, blank=True)
    # "N more events/users within M minutes" (Sentry's window): judged on the issue's time buckets.
    window = models.PositiveIntegerField(null=True, blank=True)
    user_window = models.PositiveIntegerField(null=True, blank=True)
    times_seen_at_start = models.BigIntegerField(default=0)
    user_count_at_start = models.BigIntegerField(default=0)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["until"], name="snooze_until_idx")]


class IssueResolution(models.Model):
    """A resolve that holds only for some releases (Sentry's GroupResolution): an event of a release
    created after `since` regresses the issue; events of older releases, or of none, do not.
    In a release: `since` is that release's creation. In the next release: the moment of resolving."""

    class Type(models.TextChoices):
        IN_RELEASE = "in_release"
        IN_NEXT_RELEASE = "in_next_release"

    issue = models.OneToOneField(Issue, on_delete=models.CASCADE, related_name="resolution")
    type = models.CharField(max_length=16, choices=Type.choices)
    release = models.ForeignKey(
        "releases.Release", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    since = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now)


class IssueInbox(models.Model):
    """An issue waiting to be reviewed: Sentry's GroupInbox, what `is:for_review` lists. An issue
    enters with a reason (issues/lifecycle.py: new, regression, escalation, end of an ignore, or by
    hand) and leaves when someone marks it reviewed, resolves or ignores it, or 7 days after it
    entered (lifecycle.INBOX_DAYS). Entering again keeps the first reason, as Sentry does."""

    class Reason(models.IntegerChoices):
        # Sentry's GroupInboxReason numbers, which its API carries (`inbox.reason`).
        NEW = 0
        UNIGNORED = 1
        REGRESSION = 2
        MANUAL = 3
        REPROCESSED = 4
        ESCALATING = 5
        ONGOING = 6

    issue = models.OneToOneField(Issue, on_delete=models.CASCADE, related_name="inbox")
    reason = models.PositiveSmallIntegerField(choices=Reason.choices, default=Reason.NEW)
    # What the ended ignore was (until, count, window, user_count, user_window), as in Sentry.
    reason_details = models.JSONField(null=True, blank=True)
    date_added = models.DateTimeField(default=timezone.now)

    class Meta:
        # The scheduled expiry reads the oldest entries.
        indexes = [models.Index(fields=["date_added"], name="issueinbox_date_added_idx")]


class Activity(models.Model):
    """One entry of an issue's history: every state change (by a user, or by the system when `user`
    is empty) and every comment (`note`). Types are Sentry's activity type names."""

    class Type(models.TextChoices):
        SET_RESOLVED = "set_resolved"
        SET_RESOLVED_IN_RELEASE = "set_resolved_in_release"
        SET_UNRESOLVED = "set_unresolved"
        SET_IGNORED = "set_ignored"
        SET_REGRESSION = "set_regression"
        SET_ESCALATING = "set_escalating"
        AUTO_SET_ONGOING = "auto_set_ongoing"
        MARK_REVIEWED = "mark_reviewed"
        ASSIGNED = "assigned"
        UNASSIGNED = "unassigned"
        NOTE = "note"
        MERGE = "merge"
        UNMERGE_SOURCE = "unmerge_source"
        UNMERGE_DESTINATION = "unmerge_destination"

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="activities")
    type = models.CharField(max_length=32, choices=Type.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(default=dict)
    created = models.DateTimeField(default=timezone.now)
    edited = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["issue", "-created", "-id"], name="activity_issue_idx")]


class IssueBookmark(models.Model):
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issue", "user"], name="uniq_issue_bookmark")]
        indexes = [models.Index(fields=["user", "issue"], name="bookmark_user_idx")]


class IssueSeen(models.Model):
    """The last time a user looked at an issue (Sentry's GroupSeen)."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issue", "user"], name="uniq_issue_seen")]


class IssueSubscription(models.Model):
    """Who follows an issue's workflow. An inactive row is an explicit unsubscribe, which a later
    comment or assignment does not override."""

    class Reason(models.TextChoices):
        UNKNOWN = "unknown"
        COMMENT = "comment"
        ASSIGNED = "assigned"
        BOOKMARK = "bookmark"
        STATUS_CHANGE = "status_change"

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    is_active = models.BooleanField(default=True)
    reason = models.CharField(max_length=16, choices=Reason.choices, default=Reason.UNKNOWN)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issue", "user"], name="uniq_issue_subscription")]


class SavedSearch(models.Model):
    """A search a user saved on the issue list, per organization (Sentry's saved searches, personal
    ones only). The built-in ones (issues/stream.py BUILTIN_SEARCHES) are not rows."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    query = models.CharField(max_length=2000)
    sort = models.CharField(max_length=16, default="date")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user", "name"], name="uniq_saved_search_name")
        ]


# The per-issue time buckets live in a module of their own; importing them here registers them.
from .bucket_models import IssueHourBucket as IssueHourBucket  # noqa: E402
from .bucket_models import IssueHourUser as IssueHourUser  # noqa: E402
from .bucket_models import IssueMinuteBucket as IssueMinuteBucket  # noqa: E402
