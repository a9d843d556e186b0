"""Sentry's upload endpoints for source maps: `chunk-upload/` and `artifactbundle/assemble/`.
Thin: validate, call one function in upload.py, answer in Sentry's shape."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import Http404
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiToken
from projects.models import Organization, Project

from .upload import AssembleRequest, UploadError, gunzip_chunk, request_assembly, store_chunks

# Sentry's OrganizationReleasePermission: any of these lets a token upload release artifacts.
RELEASE_SCOPES = {"project:releases", "project:write", "project:admin", "org:ci"}
# What this server assembles: artifact bundles, and the v2 flow (assemble answers missingChunks).
ACCEPT = ["artifact_bundles", "artifact_bundles_v2"]
_SHA1 = re.compile(r"^[0-9a-f]{40}$")


def release_organization(request: Request, org_slug: str) -> Organization:
    """The organization, if the user is a member (404 otherwise) and the token may upload (403)."""
    organization = Organization.objects.filter(slug=org_slug).first()
    user = request.user
    if organization is None or not (user.is_superuser or organization.members.filter(user=user).exists()):
        raise Http404("No such organization")
    if isinstance(request.auth, ApiToken) and not request.auth.has_any_scope(RELEASE_SCOPES):
        raise PermissionDenied("this token needs one of the scopes " + ", ".join(sorted(RELEASE_SCOPES)))
    return organization


class ChunkUploadView(APIView):
    parser_classes = [MultiPartParser]

    def get(self, request: Request, org_slug: str) -> Response:
        organization = release_organization(request, org_slug)
        limits = settings.SOURCEMAPS
        url = request.build_absolute_uri(f"/api/0/organizations/{organization.slug}/chunk-upload/")
        return Response(
            {
                "url": url,
                "chunkSize": limits["CHUNK_BYTES"],
                "chunksPerRequest": limits["CHUNKS_PER_REQUEST"],
                "maxFileSize": limits["MAX_BUNDLE_BYTES"],
                "maxRequestSize": limits["MAX_REQUEST_BYTES"],
                "concurrency": 2,
                "hashAlgorithm": "sha1",
                "compression": ["gzip"],
                "accept": ACCEPT,
            }
        )

    def post(self, request: Request, org_slug: str) -> Response:
        organization = release_organization(request, org_slug)
        limits = settings.SOURCEMAPS
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > limits["MAX_REQUEST_BYTES"] * 2:  # compressed parts plus multipart framing
            return Response({"error": "Request too large"}, status=400)
        try:
            chunks = [(f.name, f.read(limits["CHUNK_BYTES"] + 1)) for f in request.FILES.getlist("file")]
            chunks += [
                (f.name, gunzip_chunk(f.read(limits["MAX_REQUEST_BYTES"] + 1), limits["CHUNK_BYTES"]))
                for f in request.FILES.getlist("file_gzip")
            ]
            store_chunks(organization, chunks)
        except UploadError as exc:
            return Response({"error": str(exc)}, status=400)
        return Response(status=200)


class ArtifactBundleAssembleView(APIView):
    parser_classes = [JSONParser]

    def post(self, request: Request, org_slug: str) -> Response:
        organization = release_organization(request, org_slug)
        data = request.data
        problem = _invalid_assemble(data)
        if problem:
            return Response({"error": problem}, status=400)
        slugs = set(data["projects"])
        projects = list(Project.objects.filter(organization=organization, slug__in=slugs))
        if len(projects) != len(slugs):
            return Response({"error": "One or more projects are invalid"}, status=400)
        if data.get("dist") and not data.get("version"):
            return Response({"error": "You need to specify a release together with a dist"}, status=400)
        answer = request_assembly(
            organization,
            AssembleRequest(
                checksum=data["checksum"],
                chunks=list(data["chunks"]),
                projects=projects,
                release=data.get("version") or "",
                dist=data.get("dist") or "",
            ),
        )
        return Response(answer)


def _invalid_assemble(data) -> str | None:
    """Sentry's JSON schema for the request, checked by hand (one message, Sentry's wording)."""
    if not isinstance(data, dict):
        return "Invalid json body"
    unknown = set(data) - {"checksum", "chunks", "projects", "version", "dist"}
    if unknown:
        return f"Additional properties are not allowed ({', '.join(sorted(unknown))})"
    for name in ("checksum", "chunks", "projects"):
        if name not in data:
            return f"'{name}' is a required property"
    if not isinstance(data["checksum"], str) or not _SHA1.match(data["checksum"]):
        return "checksum must be 40 lowercase hexadecimal digits"
    chunks = data["chunks"]
    if not isinstance(chunks, list) or not all(isinstance(c, str) and _SHA1.match(c) for c in chunks):
        return "chunks must be a list of SHA-1 checksums"
    if len(chunks) > 10_000:
        return "too many chunks"
    projects = data["projects"]
    if not isinstance(projects, list) or not all(isinstance(p, str) for p in projects) or not projects:
        return "You need to specify at least one project"
    version, dist = data.get("version"), data.get("dist")
    if version is not None and (not isinstance(version, str) or "/" in version or len(version) > 250):
        return "version must be a string without '/'"
    if dist is not None and (not isinstance(dist, str) or len(dist) > 64):
        return "dist must be a string of at most 64 characters"
    return None
