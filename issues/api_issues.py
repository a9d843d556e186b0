"""Sentry's issue endpoints: the project and organization issue lists (read, bulk update, bulk
delete), one issue (read, update, delete) and its comments. Views validate, call one service and
serialize; every change goes through issues/lifecycle.py (via issues/updates.py)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from rest_framework.exceptions import ParseError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.pagination import page_bounds, paginated
from projects.access import EVENT_SCOPES, TokenScopes

from . import lifecycle
from .access import (
    get_organization,
    get_project,
    issue_from_path,
    organization_project_ids,
    parse_id,
    visible_issues,
)
from .comments import CommentError, NotAuthor, add_note, delete_note, edit_note
from .lifecycle import LifecycleError
from .models import Activity, Issue
from .search import SearchError, apply_query
from .serializers import ISSUE_RELATIONS, serialize_activity, serialize_issue_detail, serialize_issues
from .stream import MAX_HITS, capped_count, matching, page_rows, parse_scope
from .stream_counts import range_stats
from .updates import apply_update, parse_update


def _bad(exc: Exception) -> Response:
    return Response({"detail": str(exc)}, status=400)


def _search(issues: QuerySet[Issue], query: str | None, user=None) -> QuerySet[Issue]:
    try:
        return apply_query(issues, query, user)
    except SearchError as exc:
        raise ParseError(str(exc)) from exc


def _selected(request: Request, issues: QuerySet[Issue]) -> list[Issue]:
    """`?id=` repeated, or without ids every issue matching `status=` and `query=` (no `query` and
    no `status`: Sentry's default `is:unresolved`), at most lifecycle.BULK_LIMIT of them."""
    ids = [parse_id(i) for i in request.query_params.getlist("id")]
    if ids:
        if None in ids or len(ids) > lifecycle.BULK_LIMIT:
            raise ParseError(f"id must be an issue id, at most {lifecycle.BULK_LIMIT} of them")
        issues = issues.filter(pk__in=ids)
    else:
        status = request.query_params.get("status")
        query = request.query_params.get("query")
        if status:
            try:
                issues = issues.filter(status=lifecycle.parse_status(status))
            except LifecycleError as exc:
                raise ParseError(str(exc)) from exc
        if query is not None or not status:
            issues = _search(issues, query, request.user)
    return list(issues.select_related(*ISSUE_RELATIONS).order_by("-last_seen", "-id")[: lifecycle.BULK_LIMIT])


def _bulk_update(request: Request, issues: QuerySet[Issue], organization) -> Response:
    try:
        update = parse_update(request.data, organization)
        if update.empty:
            raise LifecycleError(
                "nothing to do: send status, assignedTo, hasSeen, isBookmarked, isSubscribed, inbox or merge"
            )
        if not request.query_params.getlist("id") and not update.changes_status_only:
            raise LifecycleError("only a status change may omit id; select issues with id=")
        selected = _selected(request, issues)
        if not selected:
            return Response(status=204)
        return Response(apply_update(update, selected, request.user))
    except LifecycleError as exc:
        return _bad(exc)


def _bulk_delete(request: Request, issues: QuerySet[Issue]) -> Response:
    lifecycle.delete([i.pk for i in _selected(request, issues)], request.user)
    return Response(status=204)


def _list(request: Request, issues: QuerySet[Issue], project_ids: list[int]) -> Response:
    """A page of the issue stream (issues/stream.py) of the projects `project_ids`: `query`, `sort`,
    `statsPeriod` or `start`/`end`, `environment`; `count` and `userCount` of each issue within the
    range and environments, its totals in `lifetime`; the total in `X-Hits` (counted up to
    `X-Max-Hits`), as Sentry's."""
    offset, limit = page_bounds(request)
    try:
        scope = parse_scope(request.query_params, default_period="24h", bounded_by_default=False)
        found = matching(issues, request.query_params.get("query"), scope, request.user)
    except SearchError as exc:
        raise ParseError(str(exc)) from exc
    rows = page_rows(found, scope, project_ids, offset, limit + 1, ISSUE_RELATIONS)
    counts = range_stats(rows[:limit], scope)
    expand = request.query_params.getlist("expand")
    data = serialize_issues(rows[:limit], request.user, counts, scope.environments, expand)
    response = paginated(request, rows, offset, limit, data)
    response["X-Hits"] = str(min(capped_count(found), MAX_HITS))
    response["X-Max-Hits"] = str(MAX_HITS)
    return response


class ProjectIssuesView(APIView):
    permission_classes = [TokenScopes]
    token_scopes = EVENT_SCOPES

    def get(self, request: Request, org_slug: str, project_slug: str) -> Response:
        project = get_project(request.user, org_slug, project_slug)
        return _list(request, Issue.objects.filter(project=project), [project.pk])

    def put(self, request: Request, org_slug: str, project_slug: str) -> Response:
        project = get_project(request.user, org_slug, project_slug)
        return _bulk_update(request, Issue.objects.filter(project=project), project.organization)

    def delete(self, request: Request, org_slug: str, project_slug: str) -> Response:
        project = get_project(request.user, org_slug, project_slug)
        return _bulk_delete(request, Issue.objects.filter(project=project))


class OrganizationIssuesView(APIView):
    """`?project=ID` (repeated) narrows to projects; without it every project of the organization."""

    permission_classes = [TokenScopes]
    token_scopes = EVENT_SCOPES

    def _issues(self, request: Request, org_slug: str):
        organization = get_organization(request.user, org_slug)
        issues = Issue.objects.filter(project__organization=organization)
        projects = request.query_params.getlist("project")
        if projects:
            if "-1" not in projects:  # Sentry's "all projects"
                project_ids = [parse_id(p) for p in projects]
                if None in project_ids or len(project_ids) > 100:
                    raise ParseError("project must be a project id (at most 100)")
                issues = issues.filter(project_id__in=project_ids)
        return organization, issues

    def get(self, request: Request, org_slug: str) -> Response:
        organization, issues = self._issues(request, org_slug)
        return _list(request, issues, organization_project_ids(organization, request.query_params))

    def put(self, request: Request, org_slug: str) -> Response:
        organization, issues = self._issues(request, org_slug)
        return _bulk_update(request, issues, organization)

    def delete(self, request: Request, org_slug: str) -> Response:
        _, issues = self._issues(request, org_slug)
        return _bulk_delete(request, issues)


class IssueView(APIView):
    """`/issues/{id}/` and `/organizations/{org}/issues/{id or short id}/`."""

    permission_classes = [TokenScopes]
    token_scopes = EVENT_SCOPES

    def get(self, request: Request, issue_id: str, org_slug: str | None = None) -> Response:
        issue = issue_from_path(request.user, issue_id, org_slug)
        return Response(serialize_issue_detail(issue, request.user, request.query_params.getlist("expand")))

    def put(self, request: Request, issue_id: str, org_slug: str | None = None) -> Response:
        issue = issue_from_path(request.user, issue_id, org_slug)
        try:
            update = parse_update(request.data, issue.project.organization)
            if update.merge:
                raise LifecycleError("merge needs several issues: use the bulk endpoint with id=")
            result = apply_update(update, [issue], request.user)
        except LifecycleError as exc:
            return _bad(exc)
        fresh = visible_issues(request.user).get(pk=issue.pk)
        return Response({**result, **serialize_issue_detail(fresh, request.user)})

    def delete(self, request: Request, issue_id: str, org_slug: str | None = None) -> Response:
        issue = issue_from_path(request.user, issue_id, org_slug)
        lifecycle.delete([issue.pk], request.user)
        return Response(status=202)


class IssueCommentsView(APIView):
    """`GET` lists the issue's comments (newest first), `POST {"text": ...}` adds one (the same text
    again within an hour is a 400, as in Sentry). Also under `/organizations/{org}/issues/`."""

    permission_classes = [TokenScopes]
    token_scopes = EVENT_SCOPES

    def get(self, request: Request, issue_id: str, org_slug: str | None = None) -> Response:
        issue = issue_from_path(request.user, issue_id, org_slug)
        offset, limit = page_bounds(request)
        notes = Activity.objects.filter(issue=issue, type=Activity.Type.NOTE).select_related("user")
        rows = list(notes.order_by("-created", "-id")[offset : offset + limit + 1])
        return paginated(request, rows, offset, limit, [serialize_activity(a) for a in rows[:limit]])

    def post(self, request: Request, issue_id: str, org_slug: str | None = None) -> Response:
        issue = issue_from_path(request.user, issue_id, org_slug)
        body = request.data if isinstance(request.data, dict) else {}
        try:
            note = add_note(issue, request.user, body.get("text"))
        except CommentError as exc:
            return _bad(exc)
        return Response(serialize_activity(note), status=201)


class IssueCommentView(APIView):
    """`PUT {"text": ...}` edits and `DELETE` removes one's own comment; someone else's is a 404,
    as in Sentry (only the caller's own notes are looked up)."""

    permission_classes = [TokenScopes]
    token_scopes = EVENT_SCOPES

    def put(self, request: Request, issue_id: str, note_id: str, org_slug: str | None = None) -> Response:
        issue = issue_from_path(request.user, issue_id, org_slug)
        body = request.data if isinstance(request.data, dict) else {}
        try:
            note = edit_note(issue, note_id, request.user, body.get("text"))
        except (Activity.DoesNotExist, NotAuthor) as exc:
            raise Http404("No such comment") from exc
        except CommentError as exc:
            return _bad(exc)
        return Response(serialize_activity(note))

    def delete(self, request: Request, issue_id: str, note_id: str, org_slug: str | None = None) -> Response:
        issue = issue_from_path(request.user, issue_id, org_slug)
        try:
            delete_note(issue, note_id, request.user)
        except (Activity.DoesNotExist, NotAuthor) as exc:
            raise Http404("No such comment") from exc
        return Response(status=204)
