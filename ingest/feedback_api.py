"""Sentry's project user feedback endpoint, `/api/0/projects/{org}/{project}/user-feedback/`
(also `user-reports/`): GET lists the reports linked to issues, POST is Sentry's deprecated submit
endpoint for SDKs and crash dialogs without a feedback API.

POST takes a signed-in user or API token with access to the project, or, as in Sentry, DSN
authentication: `Authorization: DSN <the project's DSN>` (a key of another project: 400). The
report is checked like Sentry's (event_id, name <= 128, email <= 75 and valid, comments), scrubbed
with the project's rules like feedback items, and answered 409 when the event or its earlier report
is too old to be changed. GET refuses DSN authentication (401), as Sentry does.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import Http404
from rest_framework import authentication, exceptions
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import BearerTokenAuthentication
from core.pagination import page_bounds, paginated
from feedback.models import EMAIL_MAX, NAME_MAX
from issues.access import get_project
from issues.user_reports import (
    ReportConflict,
    project_reports,
    serialize_reports_with_issues,
    submit_user_report,
)
from projects.access import EVENT_READ, token_allows
from projects.models import Project

from .feedback_items import prepare_user_report
from .keys import KeyInfo, lookup_key
from .project_config import get_project_config
from .record import RecordHeader

STATUSES = {"unresolved": "unresolved", "": ""}


class DsnAuthentication(authentication.BaseAuthentication):
    """`Authorization: DSN <dsn>`: the key in the DSN, if it exists and is enabled."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if len(header) != 2 or header[0].lower() != b"dsn":
            return None
        public_key = urlsplit(header[1].decode("ascii", "replace")).username or ""
        key = lookup_key(public_key) if len(public_key) == 32 else None
        if key is None or not key.is_active:
            raise exceptions.AuthenticationFailed("Invalid dsn")
        return None, key

    def authenticate_header(self, request):
        return "DSN"


class SignedInOrDsn(BasePermission):
    """A DSN may submit, never read; everything else needs a signed-in user or an API token."""

    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, KeyInfo):
            return True  # reads answer 401 themselves, as Sentry's do
        if not (request.user and request.user.is_authenticated):
            return False
        return token_allows(request.auth, request.method, getattr(view, "token_scopes", {}))


class ProjectUserFeedbackView(APIView):
    authentication_classes = [
        DsnAuthentication,
        BearerTokenAuthentication,
        authentication.SessionAuthentication,
    ]
    permission_classes = [SignedInOrDsn]
    # Reports are event data: a token reads or submits them with an event or project scope (a
    # release-only CI token does not).
    token_scopes = dict.fromkeys(
        ("GET", "POST"), EVENT_READ | {"project:read", "project:write", "project:admin"}
    )

    def get(self, request: Request, org_slug: str, project_slug: str) -> Response:
        if isinstance(request.auth, KeyInfo):
            return Response({"detail": "A DSN may submit feedback, not read it."}, status=401)
        project = get_project(request.user, org_slug, project_slug)
        status = request.query_params.get("status", "unresolved")
        if status not in STATUSES:
            return Response({"status": "Invalid status choice"}, status=400)
        offset, limit = page_bounds(request, default_limit=100)
        rows = list(project_reports(project.pk, status)[offset : offset + limit + 1])
        return paginated(
            request, rows, offset, limit, serialize_reports_with_issues(rows[:limit], request.user)
        )

    def post(self, request: Request, org_slug: str, project_slug: str) -> Response:
        project = self._project(request, org_slug, project_slug)
        if isinstance(request.auth, KeyInfo) and request.auth.project_id != project.pk:
            return Response(status=400)
        errors = _problems(request.data)
        if errors:
            return Response(errors, status=400)
        config = get_project_config(project.pk)
        if config is None:
            raise Http404("No such project")
        header = RecordHeader(project_id=project.pk, key_id=0, received=time.time())
        report = prepare_user_report(request.data, header, config)
        if report is None:
            return Response({"comments": ["This field may not be blank."]}, status=400)
        try:
            stored = submit_user_report(project.pk, report)
        except ReportConflict as exc:
            return Response({"detail": str(exc)}, status=409)
        if isinstance(request.auth, KeyInfo):
            return Response(status=200)
        return Response(serialize_reports_with_issues([stored], request.user)[0])

    def _project(self, request: Request, org_slug: str, project_slug: str) -> Project:
        if not isinstance(request.auth, KeyInfo):
            return get_project(request.user, org_slug, project_slug)
        project = Project.objects.filter(organization__slug=org_slug, slug=project_slug).first()
        if project is None:
            raise Http404("No such project")
        return project


def _problems(data) -> dict[str, list[str]]:
    """Sentry's serializer errors: every field required, sizes as its columns, a valid email and
    event id (32 hex digits, or a UUID with dashes)."""
    if not hasattr(data, "get"):
        return {"non_field_errors": ["Invalid data. Expected a dictionary."]}
    errors: dict[str, list[str]] = {}
    limits = {"event_id": 36, "name": NAME_MAX, "email": EMAIL_MAX, "comments": None}
    for field, limit in limits.items():
        value = data.get(field)
        if not isinstance(value, str) or not value.strip():
            errors[field] = ["This field is required."]
        elif limit and len(value) > limit:
            errors[field] = [f"Ensure this field has no more than {limit} characters."]
    if "email" not in errors:
        try:
            validate_email(data["email"])
        except ValidationError:
            errors["email"] = ["Enter a valid email address."]
    event_id = str(data.get("event_id") or "").replace("-", "").lower()
    if "event_id" not in errors and (
        len(event_id) != 32 or any(c not in "0123456789abcdef" for c in event_id)
    ):
        errors["event_id"] = ["Enter a valid event id (32 hex digits)."]
    return errors
