"""Organizations, their members and teams, projects and the project keys SDKs authenticate with."""

import secrets

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.text import slugify


def new_public_key() -> str:
    return secrets.token_hex(16)


# Callables, so a project created after the operator changed the setting gets the new default.
def default_retention_days() -> int:
    return settings.RETENTION["EVENT_DAYS"]


def default_max_events_per_issue() -> int:
    return settings.RETENTION["MAX_EVENTS_PER_ISSUE"]


class Organization(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    # Events per calendar month; empty means the DEFAULT_MONTHLY_EVENT_QUOTA setting, 0 unlimited.
    monthly_event_quota = models.PositiveIntegerField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.slug


class OrganizationMember(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner"
        MANAGER = "manager"
        MEMBER = "member"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="uniq_org_member")]


class Team(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="teams")
    slug = models.SlugField(max_length=64)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "slug"], name="uniq_team_slug")]

    def __str__(self) -> str:
        return self.slug


class OrganizationInvite(models.Model):
    """An invitation to join an organization. Only the SHA-256 of its link's token is stored."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invites")
    email = models.EmailField(blank=True, default="")
    role = models.CharField(
        max_length=16, choices=OrganizationMember.Role.choices, default=OrganizationMember.Role.MEMBER
    )
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField()
    accepted = models.DateTimeField(null=True, blank=True)
    # Kept rather than deleted, so that its link can say it was revoked (projects/members.py).
    revoked = models.DateTimeField(null=True, blank=True)


class Project(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="projects")
    # A project belongs to one or more teams (Sentry's model); members see every project of their
    # organization, teams say who works on what (and are assignees).
    teams = models.ManyToManyField(Team, related_name="projects", blank=True)
    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    platform = models.CharField(max_length=64, blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)
    # When its first event was stored (Sentry's Project.first_event), set once by the batch writer.
    first_event = models.DateTimeField(null=True, blank=True)
    # Issue short ids (PROJECT-1, PROJECT-2 ...) are allocated with an atomic UPDATE ... RETURNING.
    issue_counter = models.BigIntegerField(default=0)
    grouping_config = models.CharField(max_length=64, default="newstyle:2023-01-11")
    # After a config upgrade, events are hashed with the old config too until this expires, so
    # they keep joining the issues the old config created (Sentry's transition window).
    secondary_grouping_config = models.CharField(max_length=64, blank=True, default="")
    secondary_grouping_expiry = models.DateTimeField(null=True, blank=True)
    fingerprint_rules = models.TextField(blank=True, default="")
    stacktrace_rules = models.TextField(blank=True, default="")
    # Set by a worker when the rules above used up an event's CPU budget (issues/rules_budget.py):
    # events are then grouped without them until the rules are saved again.
    rules_suspended_at = models.DateTimeField(null=True, blank=True)
    rules_suspended_event_id = models.CharField(max_length=32, blank=True, default="")
    scrub_extra_fields = models.TextField(blank=True, default="", help_text="One field name per line")
    scrub_safe_fields = models.TextField(blank=True, default="", help_text="One field name per line")
    scrub_ip_addresses = models.BooleanField(default=False)
    # This project's share of the organization's monthly quota, in events; empty means no share.
    monthly_event_quota = models.PositiveIntegerField(null=True, blank=True)
    # Retention (issues/retention.py): events are kept this many days after they were received, and
    # at most this many per issue (the newest); issue counts stay exact whatever is deleted.
    retention_days = models.PositiveIntegerField(
        default=default_retention_days, validators=[MinValueValidator(1)], help_text="Days events are kept"
    )
    max_events_per_issue = models.PositiveIntegerField(
        default=default_max_events_per_issue,
        validators=[MinValueValidator(1)],
        help_text="Newest events kept per issue",
    )
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "slug"], name="uniq_project_slug")]

    def __str__(self) -> str:
        return f"{self.organization.slug}/{self.slug}"

    @property
    def team(self) -> Team | None:
        """The first of its teams (Sentry's project serializer has `team` beside `teams`); uses a
        `prefetch_related("teams")` when there is one."""
        return min(self.teams.all(), key=lambda team: team.pk, default=None)

    @property
    def short_prefix(self) -> str:
        return slugify(self.slug).upper()


class ProjectKey(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="keys")
    public_key = models.CharField(max_length=32, unique=True, default=new_public_key)
    # Legacy DSNs carried a secret; SDKs may still send it and it is ignored (protocol §1).
    secret_key = models.CharField(max_length=32, default=new_public_key)
    label = models.CharField(max_length=64, default="Default")
    is_active = models.BooleanField(default=True)
    rate_limit_per_minute = models.PositiveIntegerField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    def dsn(self, base_url: str | None = None) -> str:
        base = (base_url or settings.LIGHTTRACE_URL).rstrip("/")
        scheme, rest = base.split("://", 1)
        return f"{scheme}://{self.public_key}@{rest}/{self.project_id}"
