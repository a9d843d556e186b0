"""The Sentry-compatible web API subset (read side), so existing Sentry tooling can read LightTrace."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404
from rest_framework.exceptions import ParseError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .access import get_issue, get_project
from .buckets import issue_stats
from .merge import merge_issues, unmerge_hashes
from .models import Event, GroupHash, Issue
from .search import SearchError, apply_query
from .serializers import serialize_event, serialize_event_summary, serialize_issue
from .services import set_status

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_OFFSET = 100_000


def _page(request: Request) -> tuple[int, int]:
    """Sentry cursors look like `<value>:<offset>:<is_prev>`; ours carry the offset."""
    try:
        limit = max(1, min(MAX_LIMIT, int(request.query_params.get("limit", DEFAULT_LIMIT))))
    except ValueError:
        limit = DEFAULT_LIMIT
    cursor = request.query_params.get("cursor", "")
    try:
        offset = max(0, int(cursor.split(":")[1])) if cursor else 0
    except (IndexError, ValueError):
        offset = 0
    if offset > MAX_OFFSET:
        # A made-up cursor must not reach the database as an offset it cannot hold (or scan).
        raise ParseError(f"cursor offset must be at most {MAX_OFFSET}")
    return offset, limit


def _paginated(request: Request, rows: list, offset: int, limit: int, data: list) -> Response:
    has_next = len(rows) > limit
    base = request.build_absolute_uri(request.path)
    params = {k: v for k, v in request.query_params.items() if k != "cursor"}

    def link(rel: str, off: int, is_prev: int, results: bool) -> str:
        cursor = f"0:{off}:{is_prev}"
        url = f"{base}?{urlencode({**params, 'cursor': cursor})}"
        return f'<{url}>; rel="{rel}"; results="{str(results).lower()}"; cursor="{cursor}"'

    response = Response(data)
    response["Link"] = ", ".join(
        [link("previous", max(0, offset - limit), 1, offset > 0), link("next", offset + limit, 0, has_next)]
    )
    return response


class ProjectIssuesView(APIView):
    def get(self, request: Request, org_slug: str, project_slug: str) -> Response:
        project = get_project(request.user, org_slug, project_slug)
        offset, limit = _page(request)
        try:
            issues = apply_query(Issue.objects.filter(project=project), request.query_params.get("query"))
        except SearchError as exc:
            raise ParseError(str(exc)) from exc
        rows = list(
            issues.select_related("project__organization").order_by("-last_seen", "-id")[
                offset : offset + limit + 1
            ]
        )
        stats = issue_stats(i.pk for i in rows[:limit])
        data = [serialize_issue(i, stats[i.pk]) for i in rows[:limit]]
        return _paginated(request, rows, offset, limit, data)

    def put(self, request: Request, org_slug: str, project_slug: str) -> Response:
        """`?id=1&id=2` with `{"merge": 1}` (merge into the issue with most events) or `{"status": ...}`."""
        project = get_project(request.user, org_slug, project_slug)
        ids = request.query_params.getlist("id")
        issues = list(Issue.objects.filter(project=project, pk__in=[i for i in ids if i.isdigit()]))
        if not issues:
            return Response({"detail": "no matching issues"}, status=404)
        body = request.data if isinstance(request.data, dict) else {}
        if body.get("merge"):
            if len(issues) < 2:
                return Response({"detail": "merging needs at least two issues"}, status=400)
            # Like Sentry, the issue with the most events becomes the parent.
            parent = max(issues, key=lambda i: (i.times_seen, -i.pk))
            merge_issues(parent, [i for i in issues if i.pk != parent.pk])
            children = sorted(str(i.pk) for i in issues if i.pk != parent.pk)
            return Response({"merge": {"parent": str(parent.pk), "children": children}})
        status = body.get("status")
        if isinstance(status, str) and status in Issue.Status.values:
            for issue in issues:
                set_status(issue, status)
            return Response({"status": status})
        return Response({"detail": "nothing to do: send merge or status"}, status=400)


class IssueView(APIView):
    def get(self, request: Request, issue_id: str) -> Response:
        return Response(serialize_issue(get_issue(request.user, issue_id)))


class IssueEventsView(APIView):
    def get(self, request: Request, issue_id: str) -> Response:
        issue = get_issue(request.user, issue_id)
        offset, limit = _page(request)
        rows = list(
            Event.objects.filter(issue=issue).order_by("-timestamp", "-id")[offset : offset + limit + 1]
        )
        full = request.query_params.get("full") in ("1", "true", "True")
        data = [serialize_event(e) if full else serialize_event_summary(e) for e in rows[:limit]]
        return _paginated(request, rows, offset, limit, data)


class IssueEventView(APIView):
    """`latest`, `oldest` or an event id, with previous/next ids for navigation."""

    def get(self, request: Request, issue_id: str, event_id: str) -> Response:
        issue = get_issue(request.user, issue_id)
        event = find_issue_event(issue, event_id)
        previous_id, next_id = neighbour_ids(event)
        return Response(serialize_event(event, previous_id, next_id))


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
        new_issue = unmerge_hashes(issue, hashes) if hashes else None
        if new_issue is None:
            return Response({"detail": "nothing to unmerge (unknown hashes, or all of the issue's)"}, 400)
        return Response({"id": str(new_issue.pk)}, status=202)
