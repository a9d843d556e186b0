"""The header's organization and project switchers (a template context processor). Lazy: the two
queries run only when a page's header is rendered, never for API answers or redirects."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .access import ADMIN_ROLES, visible_organizations
from .models import OrganizationMember, Project


def _navigation(request: HttpRequest) -> dict:
    match = request.resolver_match
    kwargs = match.kwargs if match else {}
    org_slug, project_slug = kwargs.get("org_slug"), kwargs.get("project_slug")
    orgs = list(visible_organizations(request.user).order_by("slug").values_list("slug", flat=True))
    nav = {"orgs": orgs, "org": None, "project": project_slug, "projects": [], "manage": False}
    if org_slug not in orgs:
        if len(orgs) != 1:
            return nav
        # Pages of no organization (home, account, a 404) link to the only one the user has.
        org_slug, project_slug = orgs[0], None
    nav["org"] = org_slug
    projects = list(
        Project.objects.filter(organization__slug=org_slug).order_by("slug").values_list("slug", flat=True)
    )
    nav["projects"] = projects
    if project_slug not in projects:  # a 404 page for a made-up project links to none of it
        nav["project"] = None
    if request.user.is_superuser:
        nav["manage"] = True
    else:
        role = (
            OrganizationMember.objects.filter(organization__slug=org_slug, user=request.user)
            .values_list("role", flat=True)
            .first()
        )
        nav["manage"] = role in ADMIN_ROLES
    return nav


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)  # absent on error pages answered before the middleware ran
    if user is None or not user.is_authenticated:
        return {}
    return {"nav": SimpleLazyObject(lambda: _navigation(request))}
