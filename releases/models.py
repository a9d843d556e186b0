"""Releases, their deploys, and the environments events name.

A release belongs to an organization and is shared by its projects (Sentry's model): `sentry-cli
releases new` creates one, and so does the first event that names a version. Event facts (first and
last event, new issues per project) are maintained by the batch writer through
releases/ingest.py with upserts, so several workers can write at once.
"""

from django.db import models
from django.utils import timezone

from projects.models import Organization, Project

# Sentry's limits for a version (Release.is_valid_version): what cannot be put in a URL path segment
# or a log line is refused.
MAX_VERSION_LENGTH = 200
BAD_VERSION_CHARS = frozenset("\r\n\f\x0c\t/\\")
RESERVED_VERSIONS = frozenset({"", ".", "..", " ", "latest"})


def is_valid_version(version: str) -> bool:
    return (
        version not in RESERVED_VERSIONS
        and len(version) <= MAX_VERSION_LENGTH
        and not BAD_VERSION_CHARS.intersection(version)
        and version.strip() == version
    )


class Release(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        ARCHIVED = "archived"  # `sentry-cli releases archive`: left out of lists unless asked for

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="releases")
    version = models.CharField(max_length=MAX_VERSION_LENGTH)
    ref = models.CharField(max_length=250, blank=True, default="")
    url = models.CharField(max_length=1000, blank=True, default="")
    # Sentry's dateCreated; "the next release" after a resolve is the next one created.
    date_added = models.DateTimeField(default=timezone.now)
    date_started = models.DateTimeField(null=True, blank=True)
    # Set by `sentry-cli releases finalize` (Sentry's dateReleased).
    date_released = models.DateTimeField(null=True, blank=True)
    first_event = models.DateTimeField(null=True, blank=True)
    last_event = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    projects = models.ManyToManyField(Project, through="ReleaseProject", related_name="releases")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "version"], name="uniq_release_version")
        ]
        indexes = [models.Index(fields=["organization", "-date_added"], name="release_org_added_idx")]

    def __str__(self) -> str:
        return self.version


class ReleaseProject(models.Model):
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="release_projects")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="release_projects")
    # Issues of this project whose first event named this release (Sentry's ReleaseProject.new_groups).
    new_groups = models.BigIntegerField(default=0)
    # Events of this project stored with this release (counted when stored; retention keeps it).
    event_count = models.BigIntegerField(default=0)
    first_event = models.DateTimeField(null=True, blank=True)
    last_event = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "release"], name="uniq_release_project")]


class Deploy(models.Model):
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="deploys")
    environment = models.CharField(max_length=64)
    name = models.CharField(max_length=64, blank=True, default="")
    url = models.CharField(max_length=1000, blank=True, default="")
    date_started = models.DateTimeField(null=True, blank=True)
    date_finished = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["release", "-date_finished"], name="deploy_release_idx")]


class Environment(models.Model):
    """An environment of a project, created when an event or a deploy first names it."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="environments")
    name = models.CharField(max_length=64)
    is_hidden = models.BooleanField(default=False)
    date_added = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="uniq_project_environment")]
