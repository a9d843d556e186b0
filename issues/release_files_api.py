"""Sentry's release file endpoints (`/organizations/{org}/releases/{version}/files/`, the project
variant, and one file by id): the per-file uploads of older sentry-cli versions and of scripts.
Thin views over sourcemaps/release_files.py; here because they need both the release (releases/)
and the files (sourcemaps/), which do not import each other."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.pagination import page_bounds, paginated
from projects.access import TokenScopes, get_organization, get_project
from releases.api import RELEASE_SCOPES, get_release
from releases.models import Release
from sourcemaps.models import ReleaseFile
from sourcemaps.release_files import (
    FileUpload,
    ReleaseFileError,
    delete_release_files,
    parse_headers,
    serialize_release_file,
    store_release_file,
    update_release_file,
)
from sourcemaps.storage import blob_store

from .release_api import project_release


def _release(request: Request, org_slug: str, project_slug: str | None, version: str) -> Release:
    """The organization's release; for the project paths, one the project has (404 otherwise)."""
    if project_slug is None:
        return get_release(get_organization(request.user, org_slug), version)
    return project_release(get_project(request.user, org_slug, project_slug), version)


def _files(release: Release):
    return ReleaseFile.objects.filter(organization_id=release.organization_id, release=release.version)


def _error(exc: ReleaseFileError) -> Response:
    return Response({"detail": str(exc)}, status=exc.status)


class ReleaseFilesView(APIView):
    """GET lists (newest first, `?query=` a part of the name, cursor-paginated); POST uploads one
    file as multipart: `file`, `name` (default: the file's name), `dist`, `header` ("Key: Value", repeatable)."""

    permission_classes = [TokenScopes]
    token_scopes = RELEASE_SCOPES
    parser_classes = [MultiPartParser, FormParser]

    def get(self, request: Request, org_slug: str, version: str, project_slug: str | None = None) -> Response:
        files = _files(_release(request, org_slug, project_slug, version))
        if request.query_params.get("query"):
            files = files.filter(name__icontains=request.query_params["query"])
        offset, limit = page_bounds(request)
        rows = list(files.order_by("-created", "-id")[offset : offset + limit + 1])
        return paginated(request, rows, offset, limit, [serialize_release_file(f) for f in rows[:limit]])

    def post(
        self, request: Request, org_slug: str, version: str, project_slug: str | None = None
    ) -> Response:
        release = _release(request, org_slug, project_slug, version)
        uploaded = request.FILES.get("file")
        if uploaded is None:
            return Response({"detail": "Missing uploaded file"}, status=400)
        try:
            upload = FileUpload(
                name=request.data.get("name") or uploaded.name,
                dist=request.data.get("dist") or "",
                headers=parse_headers(request.data.getlist("header")),
                data=uploaded.read(),
            )
            release_file = store_release_file(release.organization, release.version, upload)
        except ReleaseFileError as exc:
            return _error(exc)
        return Response(serialize_release_file(release_file), status=201)


class ReleaseFileView(APIView):
    """GET one file (`?download=1`: its bytes), PUT `{"name", "dist"}`, DELETE."""

    permission_classes = [TokenScopes]
    token_scopes = RELEASE_SCOPES
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def _file(self, request: Request, org_slug: str, version: str, project_slug, file_id: str) -> ReleaseFile:
        release = _release(request, org_slug, project_slug, version)
        found = _files(release).filter(pk=file_id).first() if file_id.isdigit() else None
        if found is None:
            raise Http404("No such release file")
        return found

    def get(
        self, request: Request, org_slug: str, version: str, file_id: str, project_slug=None
    ) -> HttpResponse:
        release_file = self._file(request, org_slug, version, project_slug, file_id)
        if request.query_params.get("download") not in (None, "", "0"):
            return _download(release_file)
        return Response(serialize_release_file(release_file))

    def put(self, request: Request, org_slug: str, version: str, file_id: str, project_slug=None) -> Response:
        release_file = self._file(request, org_slug, version, project_slug, file_id)
        data = request.data if hasattr(request.data, "get") else {}
        name, dist = data.get("name"), data.get("dist")
        if (name is not None and not isinstance(name, str)) or (
            dist is not None and not isinstance(dist, str)
        ):
            return Response({"detail": "name and dist must be strings"}, status=400)
        try:
            update_release_file(release_file, name, dist)
        except ReleaseFileError as exc:
            return _error(exc)
        return Response(serialize_release_file(release_file))

    def delete(
        self, request: Request, org_slug: str, version: str, file_id: str, project_slug=None
    ) -> Response:
        release_file = self._file(request, org_slug, version, project_slug, file_id)
        delete_release_files(ReleaseFile.objects.filter(pk=release_file.pk))
        return Response(status=204)


def _download(release_file: ReleaseFile) -> HttpResponse:
    data = blob_store().get(release_file.checksum)
    if data is None:
        raise Http404("The file's bytes are gone from storage")
    response = HttpResponse(data, content_type="application/octet-stream")
    filename = release_file.name.rsplit("/", 1)[-1].replace('"', "") or "file"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
