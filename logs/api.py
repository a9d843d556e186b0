"""`GET /api/0/projects/{org}/{project}/logs/` and `/api/0/organizations/{org}/logs/`: log records
newest first, `?query=` in Sentry's search syntax, `statsPeriod` or `start`/`end`, keyset cursors
in the `Link` header (each record once, however many arrive meanwhile). `?after=<cursor>` is the
logs page's live tail: records newer than the cursor, the next one in `X-Tail-Cursor`."""

from __future__ import annotations

from urllib.parse import urlencode

from rest_framework.exceptions import ParseError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.pagination import page_limit
from projects.access import EVENT_READ, TokenScopes, get_organization, get_project, visible_projects

from .query.parser import SearchError
from .services import build_query, search_page, serialize_record, tail_page

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# Not Sentry's: where a live tail's next `?after=` poll starts (the newest record's cursor).
TAIL_HEADER = "X-Tail-Cursor"


def logs_response(request: Request, projects: list) -> Response:
    params = request.query_params
    slugs = {p.id: p.slug for p in projects}
    limit = page_limit(request, DEFAULT_LIMIT, MAX_LIMIT)
    try:
        query = build_query(
            slugs, params.get("query"), {k: params.get(k) for k in ("statsPeriod", "start", "end")}
        )
        if params.get("after"):
            page = tail_page(query, params["after"], limit)
        else:
            page = search_page(query, params.get("cursor"), limit)
    except SearchError as exc:
        raise ParseError(str(exc)) from exc
    response = Response([serialize_record(r, slugs) for r in page.records])
    response["Link"] = _links(request, params.get("cursor"), page.next_cursor)
    if page.tail_cursor:
        response[TAIL_HEADER] = page.tail_cursor
    return response


def _links(request: Request, current: str | None, next_cursor: str | None) -> str:
    base = request.build_absolute_uri(request.path)
    params = {k: v for k, v in request.query_params.items() if k != "cursor"}

    def link(rel: str, cursor: str, results: bool) -> str:
        query = urlencode({**params, "cursor": cursor} if cursor else params)
        return f'<{base}?{query}>; rel="{rel}"; results="{str(results).lower()}"; cursor="{cursor}"'

    # Keyset cursors go forward only: "previous" is the first page (newest records) again.
    return ", ".join(
        [link("previous", "", False), link("next", next_cursor or current or "", bool(next_cursor))]
    )


class ProjectLogsView(APIView):
    permission_classes = [TokenScopes]
    token_scopes = {"GET": EVENT_READ}

    def get(self, request: Request, org_slug: str, project_slug: str) -> Response:
        return logs_response(request, [get_project(request.user, org_slug, project_slug)])


class OrganizationLogsView(APIView):
    permission_classes = [TokenScopes]
    token_scopes = {"GET": EVENT_READ}

    def get(self, request: Request, org_slug: str) -> Response:
        organization = get_organization(request.user, org_slug)
        projects = list(visible_projects(request.user).filter(organization=organization))
        wanted = request.query_params.getlist("project")
        if wanted:  # Sentry's `project=<id>` filter, any number of times
            projects = [p for p in projects if str(p.id) in wanted]
        return logs_response(request, projects)
