"""The Sentry-compatible web API: events of an issue and grouping hashes. Issue lists, issue objects
and comments are in issues/api_issues.py; pagination is core/pagination.py."""

from __future__ import annotations

from django.http import Http404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.pagination import page_bounds, paginated

from . import lifecycle
from .access import get_issue
from .models import Event, GroupHash, Issue
from .serializers import serialize_event, serialize_event_detail, serialize_event_summary


class IssueEventsView(APIView):
    def get(self, request: Request, issue_id: str) -> Response:
        issue = get_issue(request.user, issue_id)
        offset, limit = page_bounds(request)
        rows = list(
            Event.objects.filter(issue=issue).order_by("-timestamp", "-id")[offset : offset + limit + 1]
        )
        full = request.query_params.get("full") in ("1", "true", "True")
        data = [serialize_event(e) if full else serialize_event_summary(e) for e in rows[:limit]]
        return paginated(request, rows, offset, limit, data)


class IssueEventView(APIView):
    """`latest`, `oldest` or an event id, with previous/next ids for navigation."""

    def get(self, request: Request, issue_id: str, event_id: str) -> Response:
        issue = get_issue(request.user, issue_id)
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
        event = events.filter(event_id=event_id.replace("-", "").lower()).first()
    if event is None:
        raise Http404("No such event")
    return event


def neighbour_ids(event: Event) -> tuple[str | None, str | None]:
    """Older and newer event of the same issue, ordered like the list: by timestamp, then id."""
    same = Event.objects.filter(issue_id=event.issue_id)
    older = (
        (same.filter(timestamp__lt=event.timestamp) | same.filter(timestamp=event.timestamp, id__lt=event.id))
        .order_by("-timestamp", "-id")
        .values_list("event_id", flat=True)
        .first()
    )
    newer = (
        (same.filter(timestamp__gt=event.timestamp) | same.filter(timestamp=event.timestamp, id__gt=event.id))
        .order_by("timestamp", "id")
        .values_list("event_id", flat=True)
        .first()
    )
    return older, newer


class IssueHashesView(APIView):
    """`GET` lists an issue's grouping hashes; `DELETE ?id=<hash>` unmerges them into a new issue."""

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
