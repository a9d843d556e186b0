"""The Sentry-compatible web API: events of an issue and grouping hashes. Issue lists, issue objects
and comments are in issues/api_issues.py; pagination is core/pagination.py."""

from __future__ import annotations

from django.http import Http404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.pagination import page_bounds, paginated
from projects.access import EVENT_SCOPES, TokenScopes

from . import lifecycle
from .access import get_issue, issue_from_path
from .event_serializers import event_reports, serialize_event, serialize_event_detail, serialize_event_summary
from .models import Event, GroupHash, Issue


class IssueEventsView(APIView):
    """Newest first (by the SDK's timestamp, the index of the issue page's navigation)."""

    permission_classes = [TokenScopes]
    token_scopes = EVENT_SCOPES

    def get(self, request: Request, issue_id: str, org_slug: str | None = None) -> Response:
        issue = issue_from_path(request.user, issue_id, org_slug)
        offset, limit = page_bounds(request)
        rows = list(
            Event.objects.filter(issue=issue).order_by("-timestamp", "-id")[offset : offset + limit + 1]
        )
        full = request.query_params.get("full") in ("1", "true", "True")
        reports = event_reports(rows[:limit]) if full else {}
        data = [
            serialize_event(e, reports=reports) if full else serialize_event_summary(e) for e in rows[:limit]
        ]
        return paginated(request, rows, offset, limit, data)


class IssueEventView(APIView):
    """`latest`, `oldest` or an event id, with previous/next ids for navigation."""

    permission_classes = [TokenScopes]
    token_scopes = EVENT_SCOPES

    def get(self, request: Request, issue_id: str, event_id: str, org_slug: str | None = None) -> Response:
        issue = issue_from_path(request.user, issue_id, org_slug)
        event = find_issue_event(issue, event_id)
        previous_id, next_id = neighbour_ids(event)
        return Response(serialize_event_detail(event, issue.project.organization_id, previous_id, next_id))


def find_issue_event(issue: Issue, event_id: str) -> Event:
    events = Event.objects.filter(issue=issue)
    if event_id == "latest":
        event = events.order_by("-timestamp", "-id").first()
    elif event_id == "oldest":
        event = events.order_by("timestamp", "id").first()
    else:
        # By the project's unique (project, event_id) index, not a walk over the issue's events.
        wanted = event_id.replace("-", "").lower()
        event = events.filter(project_id=issue.project_id, event_id=wanted).first()
    if event is None:
        raise Http404("No such event")
    return event


def neighbour_ids(event: Event) -> tuple[str | None, str | None]:
    """Older and newer event of the same issue, ordered like the list: by timestamp, then id.
    Each side is at most two index range lookups on (issue, timestamp, id), never a scan."""
    return _neighbour(event, older=True), _neighbour(event, older=False)


def _neighbour(event: Event, older: bool) -> str | None:
    same = Event.objects.filter(issue_id=event.issue_id)
    op, order = ("lt", ("-timestamp", "-id")) if older else ("gt", ("timestamp", "id"))
    tied = same.filter(timestamp=event.timestamp, **{f"id__{op}": event.id})
    found = tied.order_by(*order).values_list("event_id", flat=True).first()
    if found is None:
        beyond = same.filter(**{f"timestamp__{op}": event.timestamp})
        found = beyond.order_by(*order).values_list("event_id", flat=True).first()
    return found


class IssueHashesView(APIView):
    """`GET` lists an issue's grouping hashes; `DELETE ?id=<hash>` unmerges them into a new issue."""

    permission_classes = [TokenScopes]
    token_scopes = EVENT_SCOPES

    def get(self, request: Request, issue_id: str) -> Response:
        issue = get_issue(request.user, issue_id)
        hashes = GroupHash.objects.filter(issue=issue).order_by("hash")
        return Response([{"id": h.hash, "config": h.config} for h in hashes])

    def delete(self, request: Request, issue_id: str) -> Response:
        issue = get_issue(request.user, issue_id)
        hashes = request.query_params.getlist("id")
        new_issue = lifecycle.unmerge(issue, hashes, request.user) if hashes else None
        if new_issue is None:
            return Response({"detail": "nothing to unmerge (unknown hashes, or all of the issue's)"}, 400)
        return Response({"id": str(new_issue.pk)}, status=202)
