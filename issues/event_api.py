"""Sentry's event endpoints beyond an issue's own list: a project's events (`sentry-cli events
list`), one event of a project, an event looked up by id across an organization, and an issue's
recommended event. Detail views carry the whole release object, as Sentry's do."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.pagination import page_bounds, paginated
from projects.access import EVENT_READ, TokenScopes, get_organization, get_project, visible_projects

from .access import get_issue, get_organization_issue
from .api import neighbour_ids
from .event_serializers import event_reports, serialize_event, serialize_event_detail, serialize_event_summary
from .models import Event, Issue


def _shown(events: QuerySet[Event]) -> QuerySet[Event]:
    """The events of an issue pending deletion are gone with it, before the task removes them."""
    return events.exclude(issue__status=Issue.Status.PENDING_DELETION)


def _normalized_id(event_id: str) -> str:
    return event_id.replace("-", "").lower()


def event_detail(event: Event, organization_id: int) -> dict[str, Any]:
    previous_id, next_id = neighbour_ids(event)
    return serialize_event_detail(event, organization_id, previous_id, next_id)


class ProjectEventsView(APIView):
    """Newest received first (the index retention uses); `?full=true` for whole events."""

    permission_classes = [TokenScopes]
    token_scopes = {"GET": EVENT_READ}

    def get(self, request: Request, org_slug: str, project_slug: str) -> Response:
        project = get_project(request.user, org_slug, project_slug)
        offset, limit = page_bounds(request, default_limit=100)
        rows = list(
            _shown(Event.objects.filter(project=project)).order_by("-received", "-id")[
                offset : offset + limit + 1
            ]
        )
        full = request.query_params.get("full") in ("1", "true", "True")
        reports = event_reports(rows[:limit]) if full else {}
        data = [
            serialize_event(e, reports=reports) if full else serialize_event_summary(e) for e in rows[:limit]
        ]
        for item in data:
            item["projectID"] = str(project.pk)
        return paginated(request, rows, offset, limit, data)


class ProjectEventView(APIView):
    permission_classes = [TokenScopes]
    token_scopes = {"GET": EVENT_READ}

    def get(self, request: Request, org_slug: str, project_slug: str, event_id: str) -> Response:
        project = get_project(request.user, org_slug, project_slug)
        event = _shown(Event.objects.filter(project=project, event_id=_normalized_id(event_id))).first()
        if event is None:
            raise Http404("No such event")
        return Response(event_detail(event, project.organization_id))


class EventIdLookupView(APIView):
    """`/organizations/{org}/eventids/{event_id}/`: which project and issue hold an event."""

    permission_classes = [TokenScopes]
    token_scopes = {"GET": EVENT_READ}

    def get(self, request: Request, org_slug: str, event_id: str) -> Response:
        org = get_organization(request.user, org_slug)
        projects = visible_projects(request.user).filter(organization=org)
        event = (
            _shown(Event.objects.filter(project__in=projects, event_id=_normalized_id(event_id)))
            .select_related("project")
            .first()
        )
        if event is None:
            raise Http404("No such event")
        return Response(
            {
                "organizationSlug": org.slug,
                "projectSlug": event.project.slug,
                "groupId": str(event.issue_id),
                "eventId": event.event_id,
                "event": event_detail(event, org.pk),
            }
        )


class IssueRecommendedEventView(APIView):
    """The event Sentry's issue page opens with: the newest one that carries a trace (so logs and
    spans can be linked) among the newest 100, else the newest."""

    permission_classes = [TokenScopes]
    token_scopes = {"GET": EVENT_READ}

    def get(self, request: Request, issue_id: str, org_slug: str | None = None) -> Response:
        issue: Issue = (
            get_organization_issue(request.user, org_slug, issue_id)
            if org_slug is not None
            else get_issue(request.user, issue_id)
        )
        newest = list(
            Event.objects.filter(issue=issue)
            .order_by("-timestamp", "-id")
            .values_list("id", "trace_id")[:100]
        )
        if not newest:
            raise Http404("No such event")
        chosen = next((pk for pk, trace in newest if trace), newest[0][0])
        event = Event.objects.get(pk=chosen)
        return Response(event_detail(event, issue.project.organization_id))
