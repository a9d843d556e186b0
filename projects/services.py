"""Provisioning: organizations, projects and their keys, created idempotently."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from .models import Organization, OrganizationMember, Project, ProjectKey, Team


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
    org = get_or_create_organization(org_slug)
    team, _ = Team.objects.get_or_create(organization=org, slug=project_slug)
    project, _ = Project.objects.get_or_create(
        organization=org,
        slug=project_slug,
        defaults={"name": project_slug, "platform": platform, "team": team},
    )
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
