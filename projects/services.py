"""Provisioning: organizations, teams, projects and their keys."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from .models import Organization, OrganizationMember, Project, ProjectKey, Team


class AlreadyExists(Exception):
    """A slug is taken (the database's unique constraint said so)."""


def get_or_create_organization(slug: str) -> Organization:
    try:
        with transaction.atomic():
            org, _ = Organization.objects.get_or_create(slug=slug, defaults={"name": slug})
    except IntegrityError:  # another process created it between our SELECT and INSERT
        org = Organization.objects.get(slug=slug)
    return org


def add_member(org: Organization, user: AbstractBaseUser, role: str = OrganizationMember.Role.MEMBER) -> None:
    member, created = OrganizationMember.objects.get_or_create(
        organization=org, user=user, defaults={"role": role}
    )
    if not created and role == OrganizationMember.Role.OWNER and member.role != role:
        member.role = role
        member.save(update_fields=["role"])


@transaction.atomic
def create_project(
    org_slug: str, project_slug: str, platform: str = "", owner: AbstractBaseUser | None = None
) -> tuple[Project, ProjectKey]:
    """Idempotent (manage.py create_project): the same slugs give the same project and DSN."""
    org = get_or_create_organization(org_slug)
    team, _ = Team.objects.get_or_create(organization=org, slug=project_slug)
    project, created = Project.objects.get_or_create(
        organization=org, slug=project_slug, defaults={"name": project_slug, "platform": platform}
    )
    if created:
        project.teams.add(team)
    if platform and project.platform != platform:
        project.platform = platform
        project.save(update_fields=["platform"])
    key = project.keys.filter(is_active=True).order_by("id").first() or ProjectKey.objects.create(
        project=project
    )
    if owner is not None:
        add_member(org, owner, OrganizationMember.Role.OWNER)
        (project.team or team).members.add(owner)
    return project, key


def create_organization(slug: str, name: str, owner: AbstractBaseUser) -> Organization:
    """A new organization (never an existing one) with its creator as owner."""
    try:
        with transaction.atomic():
            org = Organization.objects.create(slug=slug, name=name)
            OrganizationMember.objects.create(
                organization=org, user=owner, role=OrganizationMember.Role.OWNER
            )
    except IntegrityError as exc:
        raise AlreadyExists(slug) from exc
    return org


def create_team(org: Organization, slug: str) -> Team:
    try:
        with transaction.atomic():
            return Team.objects.create(organization=org, slug=slug)
    except IntegrityError as exc:
        raise AlreadyExists(slug) from exc


def add_project(
    org: Organization, slug: str, name: str, platform: str, teams: list[Team]
) -> tuple[Project, ProjectKey]:
    """A new project (never an existing one) in the given teams, or in a new team of its own name."""
    try:
        with transaction.atomic():
            project = Project.objects.create(organization=org, slug=slug, name=name, platform=platform)
            if not teams:
                team, _ = Team.objects.get_or_create(organization=org, slug=slug)
                teams = [team]
            project.teams.add(*teams)
            key = ProjectKey.objects.create(project=project)
    except IntegrityError as exc:
        raise AlreadyExists(slug) from exc
    return project, key


@transaction.atomic
def rotate_key(key: ProjectKey) -> ProjectKey:
    """A new key with the old one's label and rate limit; the old key is disabled (SDKs with its DSN
    are refused once the ingest key cache expires)."""
    new = ProjectKey.objects.create(
        project_id=key.project_id, label=key.label, rate_limit_per_minute=key.rate_limit_per_minute
    )
    ProjectKey.objects.filter(pk=key.pk).update(is_active=False)
    return new


def set_key_active(key: ProjectKey, active: bool) -> None:
    ProjectKey.objects.filter(pk=key.pk).update(is_active=active)


def record_first_event(project_id: int) -> None:
    """Sets the project's first_event (Sentry's firstEvent) once: inside the batch's transaction, and
    only while the worker's cached config says it is unset, so it costs nothing once set."""
    from django.utils import timezone

    Project.objects.filter(pk=project_id, first_event__isnull=True).update(first_event=timezone.now())
