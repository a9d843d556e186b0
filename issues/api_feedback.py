"""Sentry's user report endpoints read through issues: an issue's reports
(`GET /api/0/issues/{id}/user-reports/`). The project's list and the submit endpoint, which takes DSN
authentication like the SDK endpoints, are ingest/feedback_api.py."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.pagination import page_bounds, paginated
from feedback.models import UserReport
from feedback.serializers import serialize_report
from projects.access import EVENT_READ, TokenScopes

from .access import get_issue, get_organization_issue


class IssueUserReportsView(APIView):
    """Newest first, without `issue` (Sentry's plain UserReportSerializer)."""

    permission_classes = [TokenScopes]
    token_scopes = {"GET": EVENT_READ}

    def get(self, request: Request, issue_id: str, org_slug: str | None = None) -> Response:
        if org_slug is None:
            issue = get_issue(request.user, issue_id)
        else:
            issue = get_organization_issue(request.user, org_slug, issue_id)
        offset, limit = page_bounds(request, default_limit=100)
        reports = UserReport.objects.filter(issue=issue).order_by("-date_added", "-id")
        rows = list(reports[offset : offset + limit + 1])
        return paginated(request, rows, offset, limit, [serialize_report(r) for r in rows[:limit]])
