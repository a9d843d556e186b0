"""An issue's affected users: each one's identifiers beside its `user` tag value, and the search
of the users tab and of Sentry's `user` tag values endpoint over all of them.

Counts, first and last seen stay on the `user` tag rows (issues/tag_summary.py); the identifiers
are on IssueUser, one row per issue and user, keyed by the hash of the best identifier that the
`user` tag spells out (`email:jane@example.com`), so a page of tag values finds its users by key.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from .eventinfo import USER_COLUMNS, user_key_of_tag
from .models import IssueUser

# Users a search looks at: the tab lists the first this many that match, by first appearance.
MAX_MATCHES = 500
_TAG_FIELDS = {"ident": "id", "email": "email", "username": "username", "ip_address": "ip"}


def matching_tag_values(issue_id: int, search: str) -> list[str]:
    """The `user` tag values of the issue's users one of whose identifiers starts with `search`
    (ignoring case in emails and usernames), at most MAX_MATCHES."""
    text = search[:200]
    condition = Q(ident__startswith=text) | Q(email__istartswith=text)
    condition |= Q(username__istartswith=text) | Q(ip_address__startswith=text)
    users = IssueUser.objects.filter(Q(issue_id=issue_id) & condition).order_by("id")
    values = [_tag_value(row) for row in users.values_list(*_TAG_FIELDS)[:MAX_MATCHES]]
    return [value for value in values if value]


def _tag_value(identifiers: tuple) -> str | None:
    """The `user` tag of a user: its first identifier in Sentry's order (id, email, username, IP),
    which is the one its key hashes."""
    for field, value in zip(_TAG_FIELDS.values(), identifiers, strict=True):
        if value is not None:
            return f"{field}:{value}"
    return None


def identifiers_by_tag_value(issue_id: int, values: list[str]) -> dict[str, IssueUser]:
    """The IssueUser row of each `user` tag value that has one: one query."""
    keys = {key: value for value in values if (key := user_key_of_tag(value))}
    if not keys:
        return {}
    rows = IssueUser.objects.filter(issue_id=issue_id, user_key__in=sorted(keys))
    return {keys[row.user_key]: row for row in rows}


def serialize_identifiers(user: IssueUser | None, value: str) -> dict[str, Any]:
    """The fields Sentry's user tag values add (its EventUser): `identifier` is the id."""
    found = {column: getattr(user, column, None) for column, _ in USER_COLUMNS.values()}
    field, _, identifier = value.partition(":")
    return {
        "identifier": found["ident"],
        "email": found["email"],
        "username": found["username"],
        "ipAddress": found["ip_address"],
        # The issue search for this user, as Sentry's `query` (`user.email:"jane@example.com"`).
        "query": f'user.{field}:"{identifier.replace(chr(34), chr(92) + chr(34))}"' if user else None,
    }
