"""Sentry's cursor pagination for the API: `?cursor=` in, a `Link` header with both cursors out.

Sentry cursors look like `<value>:<offset>:<is_prev>`; ours carry the offset. Views fetch one row
more than the page (`limit + 1`) to learn whether a next page exists. Every app's API uses it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from rest_framework.exceptions import ParseError
from rest_framework.request import Request
from rest_framework.response import Response

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_OFFSET = 100_000


def page_limit(request: Request, default_limit: int = DEFAULT_LIMIT, max_limit: int = MAX_LIMIT) -> int:
    """Records per page asked for (`limit` or Sentry's `per_page`), within 1..max_limit."""
    raw_limit = request.query_params.get("limit", request.query_params.get("per_page", default_limit))
    try:
        return max(1, min(max_limit, int(raw_limit)))
    except ValueError:
        return default_limit


def page_bounds(request: Request, default_limit: int = DEFAULT_LIMIT) -> tuple[int, int]:
    """(offset, limit) of the page asked for (`limit` or Sentry's `per_page`)."""
    limit = page_limit(request, default_limit)
    cursor = request.query_params.get("cursor", "")
    try:
        offset = max(0, int(cursor.split(":")[1])) if cursor else 0
    except (IndexError, ValueError):
        offset = 0
    if offset > MAX_OFFSET:
        # A made-up cursor must not reach the database as an offset it cannot hold (or scan).
        raise ParseError(f"cursor offset must be at most {MAX_OFFSET}")
    return offset, limit


def paginated(request: Request, rows: list, offset: int, limit: int, data: list) -> Response:
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
