"""Writes to releases that come from the API (sentry-cli's release step): each owns its transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.sql import insert_rows
from projects.models import Organization, Project

from .ingest import record_environments
from .models import Deploy, Release


class ReleaseInputError(ValueError):
    """A request field Sentry would refuse; the message names the field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def resolve_projects(org: Organization, ids_or_slugs: Iterable) -> list[Project]:
    """sentry-cli sends numeric ids as numbers and slugs as strings; every one must be the org's."""
    wanted = list(ids_or_slugs)
    ids = {int(v) for v in wanted if isinstance(v, int) or (isinstance(v, str) and v.isdigit())}
    slugs = {v for v in wanted if isinstance(v, str) and not v.isdigit()}
    if any(not isinstance(v, int | str) or isinstance(v, bool) for v in wanted):
        raise ReleaseInputError("projects", "Invalid project ids or slugs")
    found = [p for p in org.projects.all() if p.pk in ids or p.slug in slugs]
    if len({p.pk for p in found}) < len(ids) + len(slugs):
        raise ReleaseInputError("projects", "Invalid project ids or slugs")
    return found


def link_projects(release: Release, projects: Sequence[Project]) -> None:
    insert_rows(
        "releases_releaseproject",
        ["release_id", "project_id", "new_groups", "event_count"],
        sorted((release.pk, p.pk, 0, 0) for p in projects),
        conflict=["project_id", "release_id"],
    )


@dataclass
class ReleaseFields:
    ref: str | None = None
    url: str | None = None
    date_released: datetime | None = None
    date_started: datetime | None = None
    status: str | None = None

    def apply(self, release: Release) -> list[str]:
        changed = []
        for name in ("ref", "url", "date_released", "date_started", "status"):
            value = getattr(self, name)
            if value is not None:
                setattr(release, name, value)
                changed.append(name)
        return changed


def create_release(
    org: Organization, version: str, projects: Sequence[Project], fields: ReleaseFields
) -> tuple[Release, bool]:
    """Creates the release or, like Sentry, returns the existing one (created=False: a 208)."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                release, created = Release.objects.get_or_create(organization=org, version=version)
        except IntegrityError:  # a concurrent request (or an event) created it first
            release, created = Release.objects.get(organization=org, version=version), False
        changed = fields.apply(release)
        if changed:
            release.save(update_fields=changed)
        link_projects(release, projects)
    return release, created


def update_release(release: Release, projects: Sequence[Project], fields: ReleaseFields) -> None:
    with transaction.atomic():
        changed = fields.apply(release)
        if changed:
            release.save(update_fields=changed)
        link_projects(release, projects)


def create_deploy(
    release: Release,
    environment: str,
    *,
    name: str = "",
    url: str = "",
    date_started: datetime | None = None,
    date_finished: datetime | None = None,
    projects: Sequence[Project] = (),
) -> Deploy:
    """A deploy also makes its environment known to the release's projects (or the ones named)."""
    with transaction.atomic():
        deploy = Deploy.objects.create(
            release=release,
            environment=environment,
            name=name,
            url=url,
            date_started=date_started,
            date_finished=date_finished or timezone.now(),
        )
        if projects:
            link_projects(release, projects)
        for project_id in sorted(
            {p.pk for p in projects} or set(release.projects.values_list("id", flat=True))
        ):
            record_environments(project_id, [environment])
    return deploy
