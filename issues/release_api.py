"""Release endpoints that need the issues: deleting a release (refused while issues name it, as
Sentry's Release.safe_delete does) and a project's view of a release (`/projects/{org}/{project}/
releases/{version}/`). They live here because releases/ sits below issues/ in the import layers."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.http import Http404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from projects.access import TokenScopes, get_organization, get_project
from projects.models import Project
from releases.api import RELEASE_SCOPES, OrganizationReleaseView, get_release, update_from_body
from releases.models import Release
from releases.serializers import serialize_release
from sourcemaps.models import ReleaseFile
from sourcemaps.release_files import delete_release_files

from .models import Issue

# Sentry's message and status (400) for a release its issues still point at.
ERR_RELEASE_REFERENCED = "This release is referenced by active issues and cannot be removed."


def is_referenced(release: Release) -> bool:
    """An issue first or last seen in the release. Only the release's projects can hold one: the
    batch writer links every project whose events name a version."""
    project_ids = release.release_projects.values("project_id")
    named = Q(first_release=release.version) | Q(last_release=release.version)
    return Issue.objects.filter(named, project_id__in=project_ids).exists()


def delete_release(release: Release) -> Response:
    with transaction.atomic():
        if is_referenced(release):
            return Response({"detail": ERR_RELEASE_REFERENCED}, status=400)
        delete_release_files(
            ReleaseFile.objects.filter(organization=release.organization_id, release=release.version)
        )
        release.delete()  # its deploys and project links go with it
    return Response(status=204)


class OrganizationReleaseDetailsView(OrganizationReleaseView):
    def delete(self, request: Request, org_slug: str, version: str) -> Response:
        return delete_release(get_release(get_organization(request.user, org_slug), version))


def project_release(project: Project, version: str) -> Release:
    release = get_release(project.organization, version)
    if not release.release_projects.filter(project=project).exists():
        raise Http404("No such release")
    return release


class ProjectReleaseDetailsView(APIView):
    """Sentry's "Retrieve / Update / Delete a Project's Release": the release, if the project has it."""

    permission_classes = [TokenScopes]
    token_scopes = RELEASE_SCOPES

    def get(self, request: Request, org_slug: str, project_slug: str, version: str) -> Response:
        project = get_project(request.user, org_slug, project_slug)
        return Response(serialize_release(project_release(project, version)))

    def put(self, request: Request, org_slug: str, project_slug: str, version: str) -> Response:
        project = get_project(request.user, org_slug, project_slug)
        release = project_release(project, version)
        update_from_body(project.organization, release, request)
        return Response(serialize_release(release))

    def delete(self, request: Request, org_slug: str, project_slug: str, version: str) -> Response:
        project = get_project(request.user, org_slug, project_slug)
        return delete_release(project_release(project, version))
