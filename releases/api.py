"""Sentry's release and deploy endpoints, as sentry-cli's release step and the bundler plugins call them."""

from __future__ import annotations

from typing import Any

from django.db.models import Min, QuerySet
from django.http import Http404
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.pagination import page_bounds, paginated
from projects.access import PROJECT_READ, RELEASE_WRITE, TokenScopes, get_organization, get_project
from projects.models import Organization

from .ingest import valid_environment
from .models import Deploy, Environment, Release, is_valid_version
from .serializers import serialize_deploy, serialize_environment, serialize_release, serialize_releases
from .services import (
    ReleaseFields,
    ReleaseInputError,
    create_deploy,
    create_release,
    resolve_projects,
    update_release,
)

# Sentry's OrganizationReleasePermission: reading needs any project scope, writing a release one.
RELEASE_SCOPES = {"GET": PROJECT_READ, "POST": RELEASE_WRITE, "PUT": RELEASE_WRITE, "DELETE": RELEASE_WRITE}


def _body(request: Request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise ValidationError({"detail": "the body must be a JSON object"})
    return request.data


def _text(body: dict, key: str, max_length: int) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_length:
        raise ValidationError({key: [f"must be a string of at most {max_length} characters"]})
    return value


def _date(body: dict, key: str):
    value = body.get(key)
    if value is None:
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None or parsed.tzinfo is None:
        raise ValidationError({key: ["must be an ISO 8601 date and time with a timezone"]})
    return parsed


def _fields(body: dict) -> ReleaseFields:
    return ReleaseFields(
        ref=_text(body, "ref", 250),
        url=_text(body, "url", 1000),
        date_released=_date(body, "dateReleased"),
        date_started=_date(body, "dateStarted"),
        status=_status(body),
    )


def _status(body: dict) -> str | None:
    status = body.get("status")
    if status is not None and status not in Release.Status.values:
        raise ValidationError({"status": [f"must be one of {', '.join(Release.Status.values)}"]})
    return status


def _projects(org: Organization, body: dict, required: bool):
    """Project ids or slugs of the organization. Required on create, where it may be empty:
    `sentry-cli releases archive` posts `{"version", "projects": [], "status"}`."""
    value = body.get("projects")
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise ValidationError({"projects": ["a list of project ids or slugs is required"]})
    try:
        return resolve_projects(org, value)
    except ReleaseInputError as exc:
        raise ValidationError({exc.field: [str(exc)]}) from exc


def get_release(org: Organization, version: str) -> Release:
    release = Release.objects.filter(organization=org, version=version).first()
    if release is None:
        raise Http404("No such release")
    return release


def update_from_body(org: Organization, release: Release, request: Request) -> None:
    body = _body(request)
    update_release(release, _projects(org, body, False), _fields(body))


def _list(request: Request, releases: QuerySet[Release]) -> Response:
    """Open releases unless `?status=archived` (Sentry's default); `?query=` is a version prefix."""
    status = request.query_params.get("status", Release.Status.OPEN)
    if status in Release.Status.values:
        releases = releases.filter(status=status)
    query = request.query_params.get("query")
    if query:
        releases = releases.filter(version__startswith=query)
    offset, limit = page_bounds(request)
    rows = list(releases.order_by("-date_added", "-id")[offset : offset + limit + 1])
    return paginated(request, rows, offset, limit, serialize_releases(rows[:limit]))


def _create(request: Request, org: Organization, projects: list) -> Response:
    body = _body(request)
    version = body.get("version")
    if not isinstance(version, str) or not is_valid_version(version):
        problem = (
            "This field is required." if version is None else f"Release with name {version!r} is not allowed"
        )
        raise ValidationError({"version": [problem]})
    release, created = create_release(org, version, projects or _projects(org, body, True), _fields(body))
    # Sentry answers 208 Already Reported when the release existed, so clients can tell.
    return Response(serialize_release(release), status=201 if created else 208)


class OrganizationReleasesView(APIView):
    permission_classes = [TokenScopes]
    token_scopes = RELEASE_SCOPES

    def get(self, request: Request, org_slug: str) -> Response:
        org = get_organization(request.user, org_slug)
        releases = Release.objects.filter(organization=org)
        project_ids = [p for p in request.query_params.getlist("project") if p.isdigit() and p != "-1"]
        if project_ids:
            releases = releases.filter(release_projects__project_id__in=project_ids).distinct()
        return _list(request, releases)

    def post(self, request: Request, org_slug: str) -> Response:
        return _create(request, get_organization(request.user, org_slug), [])


class ProjectReleasesView(APIView):
    permission_classes = [TokenScopes]
    token_scopes = RELEASE_SCOPES

    def get(self, request: Request, org_slug: str, project_slug: str) -> Response:
        project = get_project(request.user, org_slug, project_slug)
        return _list(request, Release.objects.filter(release_projects__project=project))

    def post(self, request: Request, org_slug: str, project_slug: str) -> Response:
        project = get_project(request.user, org_slug, project_slug)
        return _create(request, project.organization, [project])


class OrganizationReleaseView(APIView):
    permission_classes = [TokenScopes]
    token_scopes = RELEASE_SCOPES

    def get(self, request: Request, org_slug: str, version: str) -> Response:
        org = get_organization(request.user, org_slug)
        return Response(serialize_release(get_release(org, version)))

    def put(self, request: Request, org_slug: str, version: str) -> Response:
        """`sentry-cli releases finalize` sends `dateReleased`; `projects` adds projects."""
        org = get_organization(request.user, org_slug)
        release = get_release(org, version)
        update_from_body(org, release, request)
        return Response(serialize_release(release))

    # DELETE: issues/release_api.py, which can see whether issues still name the release.


class ReleaseDeploysView(APIView):
    permission_classes = [TokenScopes]
    token_scopes = RELEASE_SCOPES

    def get(self, request: Request, org_slug: str, version: str) -> Response:
        release = get_release(get_organization(request.user, org_slug), version)
        offset, limit = page_bounds(request)
        rows = list(
            Deploy.objects.filter(release=release).order_by("-date_finished", "-id")[
                offset : offset + limit + 1
            ]
        )
        return paginated(request, rows, offset, limit, [serialize_deploy(d) for d in rows[:limit]])

    def post(self, request: Request, org_slug: str, version: str) -> Response:
        org = get_organization(request.user, org_slug)
        release = get_release(org, version)
        body = _body(request)
        environment = body.get("environment")
        if not isinstance(environment, str) or not valid_environment(environment):
            raise ValidationError({"environment": ["a name of 1 to 64 characters without / or line breaks"]})
        deploy = create_deploy(
            release,
            environment,
            name=_text(body, "name", 64) or "",
            url=_text(body, "url", 1000) or "",
            date_started=_date(body, "dateStarted"),
            date_finished=_date(body, "dateFinished"),
            projects=_projects(org, body, False),
        )
        return Response(serialize_deploy(deploy), status=201)


class ProjectEnvironmentsView(APIView):
    """`?visibility=visible` (Sentry's default), `hidden` or `all`."""

    permission_classes = [TokenScopes]
    token_scopes = {"GET": PROJECT_READ}

    def get(self, request: Request, org_slug: str, project_slug: str) -> Response:
        project = get_project(request.user, org_slug, project_slug)
        environments = Environment.objects.filter(project=project).order_by("name")
        visibility = request.query_params.get("visibility", "visible")
        if visibility in ("visible", "hidden"):
            environments = environments.filter(is_hidden=visibility == "hidden")
        return Response([serialize_environment(e) for e in environments[:1000]])


class OrganizationEnvironmentsView(APIView):
    """The environments of the organization's projects, one per name (Grafana's environment picker)."""

    permission_classes = [TokenScopes]
    token_scopes = {"GET": PROJECT_READ}

    def get(self, request: Request, org_slug: str) -> Response:
        org = get_organization(request.user, org_slug)
        environments = Environment.objects.filter(project__organization=org)
        visibility = request.query_params.get("visibility", "visible")
        if visibility in ("visible", "hidden"):
            environments = environments.filter(is_hidden=visibility == "hidden")
        names = environments.values("name").annotate(first_id=Min("id")).order_by("name")[:1000]
        return Response([{"id": str(row["first_id"]), "name": row["name"]} for row in names])
