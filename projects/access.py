"""Who may see and change an organization: one home for the role checks of every page.

Anyone who is not a member gets 404, never 403 (a 403 would confirm the organization exists); a member
without the role a page needs gets 403. Roles have Sentry's meaning: members see every project of the
organization and its keys; managers also create projects and teams, invite, change roles and remove
members; owners also manage owners. Superusers act as owners everywhere.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from .models import Organization, OrganizationMember, Project

Role = OrganizationMember.Role
MANAGING_ROLES = (Role.OWNER, Role.MANAGER)


def visible_organizations(user) -> QuerySet[Organization]:
    if user.is_superuser:
        return Organization.objects.all()
    return Organization.objects.filter(members__user=user)


def visible_projects(user) -> QuerySet[Project]:
    projects = Project.objects.select_related("organization")
    if user.is_superuser:
        return projects
    return projects.filter(organization__members__user=user)


def role_in(user, org: Organization) -> str | None:
    if user.is_superuser:
        return Role.OWNER
    return (
        OrganizationMember.objects.filter(organization=org, user=user).values_list("role", flat=True).first()
    )


def can_manage(user, org: Organization) -> bool:
    return role_in(user, org) in MANAGING_ROLES


def get_organization(user, org_slug: str, *, manage: bool = False) -> tuple[Organization, str]:
    """The organization and the user's role in it; 404 for non-members, 403 without the role."""
    org = Organization.objects.filter(slug=org_slug).first()
    role = role_in(user, org) if org is not None else None
    if org is None or role is None:
        raise Http404("No such organization")
    if manage and role not in MANAGING_ROLES:
        raise PermissionDenied("Only owners and managers can do this")
    return org, role


def get_project(user, org_slug: str, project_slug: str, *, manage: bool = False) -> tuple[Project, str]:
    org, role = get_organization(user, org_slug)
    project = Project.objects.filter(organization=org, slug=project_slug).first()
    if project is None:
        raise Http404("No such project")
    project.organization = org  # already loaded: saves a query for every template that shows it
    if manage and role not in MANAGING_ROLES:
        raise PermissionDenied("Only owners and managers can do this")
    return project, role


def may_grant(actor_role: str, role: str) -> bool:
    """Managers may hand out the member and manager roles; only owners make owners."""
    return actor_role == Role.OWNER or (actor_role == Role.MANAGER and role != Role.OWNER)
