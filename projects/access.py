"""Who may see and change which organization and project, for pages and the API alike.

Members of an organization see all its projects; anyone else gets 404, never 403 (a 403 would tell
an outsider the thing exists). What a member may change depends on the role, as in Sentry: members
see every project, its issues and its client keys; owners and managers also create projects and
teams, invite, change roles and remove members, change project settings and client keys; only owners
make owners and change or remove owners. Superusers, the instance's operators, see and change
everything.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from rest_framework.permissions import BasePermission

from .models import Organization, OrganizationMember, Project

ADMIN_ROLES = frozenset({OrganizationMember.Role.OWNER, OrganizationMember.Role.MANAGER})


def visible_organizations(user) -> QuerySet[Organization]:
    if user.is_superuser:
        return Organization.objects.all()
    return Organization.objects.filter(members__user=user)


def visible_projects(user) -> QuerySet[Project]:
    projects = Project.objects.select_related("organization")
    if user.is_superuser:
        return projects
    return projects.filter(organization__members__user=user)


def get_organization(user, org_slug: str) -> Organization:
    org = visible_organizations(user).filter(slug=org_slug).first()
    if org is None:
        raise Http404("No such organization")
    return org


def get_project(user, org_slug: str, project_slug: str) -> Project:
    project = visible_projects(user).filter(organization__slug=org_slug, slug=project_slug).first()
    if project is None:
        raise Http404("No such project")
    return project


def role_in(user, org: Organization) -> str | None:
    """The user's role in a visible organization; superusers act as owners."""
    if user.is_superuser:
        return OrganizationMember.Role.OWNER
    return (
        OrganizationMember.objects.filter(organization=org, user=user).values_list("role", flat=True).first()
    )


def require_admin(user, org: Organization) -> None:
    if role_in(user, org) not in ADMIN_ROLES:
        raise PermissionDenied("Only owners and managers of the organization may do this.")


def can_manage(user, org: Organization) -> bool:
    return role_in(user, org) in ADMIN_ROLES


def organization_and_role(user, org_slug: str, *, admin: bool = False) -> tuple[Organization, str]:
    """For pages: the organization (404 outside it) and the user's role (403 when `admin` and the
    role is neither owner nor manager), in one query for members."""
    if user.is_superuser:
        return get_organization(user, org_slug), OrganizationMember.Role.OWNER
    member = (
        OrganizationMember.objects.select_related("organization")
        .filter(user=user, organization__slug=org_slug)
        .first()
    )
    if member is None:
        raise Http404("No such organization")
    if admin and member.role not in ADMIN_ROLES:
        raise PermissionDenied("Only owners and managers of the organization may do this.")
    return member.organization, member.role


def project_and_role(user, org_slug: str, project_slug: str, *, admin: bool = False) -> tuple[Project, str]:
    org, role = organization_and_role(user, org_slug)
    project = Project.objects.filter(organization=org, slug=project_slug).first()
    if project is None:
        raise Http404("No such project")
    project.organization = org  # already loaded: saves a query for every template that shows it
    if admin and role not in ADMIN_ROLES:
        raise PermissionDenied("Only owners and managers of the organization may do this.")
    return project, role


def may_grant(actor_role: str, role: str) -> bool:
    """Managers may hand out the member and manager roles; only owners make owners."""
    return actor_role == OrganizationMember.Role.OWNER or (
        actor_role == OrganizationMember.Role.MANAGER and role != OrganizationMember.Role.OWNER
    )


# Sentry's scopes per kind of endpoint and method: a token whose scopes name none of them is refused
# (403) even where its user could. Tokens without scopes (and sessions) act with the user's rights.
ORG_READ = frozenset({"org:read", "org:write", "org:admin", "org:ci"})
PROJECT_READ = frozenset({"project:read", "project:write", "project:admin", "project:releases", "org:ci"})
PROJECT_WRITE = frozenset({"project:write", "project:admin"})
RELEASE_WRITE = frozenset({"project:releases", "project:write", "project:admin", "org:ci"})
EVENT_READ = frozenset({"event:read", "event:write", "event:admin"})
# Alert rules, as Sentry's ProjectAlertRulePermission (its alerts:* scopes are not issued here).
ALERT_RULE_SCOPES = {
    "GET": frozenset({"project:read", "project:write", "project:admin"}),
    **dict.fromkeys(("POST", "PUT", "DELETE"), PROJECT_WRITE),
}
EVENT_WRITE = frozenset({"event:write", "event:admin"})
# Issues and their events, comments and hashes, as Sentry's GroupPermission / ProjectEventPermission.
EVENT_SCOPES = {
    "GET": EVENT_READ,
    "POST": EVENT_WRITE,
    "PUT": EVENT_WRITE,
    "DELETE": frozenset({"event:admin"}),
}
MEMBER_READ = frozenset({"member:read", "member:write", "member:admin", "org:read"})
# Sentry asks member:admin to remove a member; here managers hold member:write (ROLE_SCOPES) and may
# remove members and revoke invitations on the pages, so either does.
MEMBER_WRITE = frozenset({"member:write", "member:admin"})
TEAM_READ = frozenset({"team:read", "team:write", "team:admin", "org:read"})


def token_allows(auth, method: str, scope_map: dict[str, frozenset[str]]) -> bool:
    """scope_map: method -> scopes of which the token needs one (HEAD and OPTIONS read like GET)."""
    scopes = getattr(auth, "scopes", None)
    if scopes is None:
        return True
    wanted = scope_map.get("GET" if method in ("HEAD", "OPTIONS") else method)
    return wanted is None or bool(wanted.intersection(scopes))


class TokenScopes(BasePermission):
    """DRF permission for views with a `token_scopes` map (method -> scopes); users must be signed in."""

    message = "This token's scopes do not allow this request."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return token_allows(request.auth, request.method, getattr(view, "token_scopes", {}))
