"""Sentry's issue tag endpoints, under `/issues/{id}/` and `/organizations/{org}/issues/{id}/`:
the keys with their top values, one key, and one key's values page by page (issues/tag_summary.py)."""

from __future__ import annotations

from django.http import Http404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.pagination import page_bounds, paginated
from projects.access import EVENT_READ, TokenScopes

from .access import get_issue, get_organization_issue
from .affected_users import identifiers_by_tag_value, serialize_identifiers
from .models import Issue
from .tag_summary import USER_KEY, serialize_key, serialize_value, tag_keys, tag_values


def issue_in_scope(request: Request, issue_id: str, org_slug: str | None) -> Issue:
    """The issue by id (or short id under an organization); 404 outside the caller's organizations."""
    if org_slug is not None:
        return get_organization_issue(request.user, org_slug, issue_id)
    return get_issue(request.user, issue_id)


class IssueTagsView(APIView):
    """`?key=` (repeatable) narrows to those keys."""

    permission_classes = [TokenScopes]
    token_scopes = {"GET": EVENT_READ}

    def get(self, request: Request, issue_id: str, org_slug: str | None = None) -> Response:
        issue = issue_in_scope(request, issue_id, org_slug)
        keys = request.query_params.getlist("key") or None
        return Response([serialize_key(k) for k in tag_keys(issue.pk, keys)])


class IssueTagView(APIView):
    permission_classes = [TokenScopes]
    token_scopes = {"GET": EVENT_READ}

    def get(self, request: Request, issue_id: str, key: str, org_slug: str | None = None) -> Response:
        issue = issue_in_scope(request, issue_id, org_slug)
        found = tag_keys(issue.pk, [key])
        if not found:
            raise Http404("No such tag key")
        return Response(serialize_key(found[0]))


class IssueTagValuesView(APIView):
    """`?sort=` age, count, date or id (`-` for descending, default `-id` as Sentry); `?query=`
    narrows to values containing it (users: also any identifier starting with it); cursor-paginated.
    The `user` key's values add the user's identifiers, as Sentry's."""

    permission_classes = [TokenScopes]
    token_scopes = {"GET": EVENT_READ}

    def get(self, request: Request, issue_id: str, key: str, org_slug: str | None = None) -> Response:
        issue = issue_in_scope(request, issue_id, org_slug)
        offset, limit = page_bounds(request, default_limit=100)
        values = tag_values(
            issue.pk, key, request.query_params.get("sort", "-id"), request.query_params.get("query", "")
        )
        rows = list(values[offset : offset + limit + 1])
        if not rows and offset == 0 and not tag_keys(issue.pk, [key], top=0):
            raise Http404("No such tag key")
        page = [serialize_value(t) for t in rows[:limit]]
        if key == USER_KEY:  # Sentry's user tag values carry the user's identifiers
            users = identifiers_by_tag_value(issue.pk, [t.value for t in rows[:limit]])
            for tag, body in zip(rows, page, strict=False):
                body.update(serialize_identifiers(users.get(tag.value), tag.value))
        return paginated(request, rows, offset, limit, page)
