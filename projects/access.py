"""Who may see which projects. Non-members get 404, never 403: a 403 would confirm the thing exists.
(Here, below every app that shows projects' data: issues, logs and usage all ask the same way.)"""

from django.db.models import QuerySet
from django.http import Http404

from .models import Organization, Project


def visible_projects(user) -> QuerySet[Project]:
    projects = Project.objects.select_related("organization")
    if user.is_superuser:
        return projects
    return projects.filter(organization__members__user=user)


def get_project(user, org_slug: str, project_slug: str) -> Project:
    project = visible_projects(user).filter(organization__slug=org_slug, slug=project_slug).first()
    if project is None:
        raise Http404("No such project")
    return project


def get_organization(user, org_slug: str) -> Organization:
    organizations = Organization.objects.all()
    if not user.is_superuser:
        organizations = organizations.filter(members__user=user)
    organization = organizations.filter(slug=org_slug).first()
    if organization is None:
        raise Http404("No such organization")
    return organization
