"""A subset of Sentry's issue search syntax: `is:`, `level:`, `environment:`, `release:`, `trace:`, free
text."""

from __future__ import annotations

import shlex

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from .models import Event, Issue, IssueBookmark, IssueTag

# Each term is a condition the database evaluates; an unbounded list is a way to stall it.
MAX_TERMS = 20


class SearchError(ValueError):
    """A query that cannot run: shown under the search bar, a 400 in the API."""


_STATUS = {
    "unresolved": Q(status=Issue.Status.UNRESOLVED),
    "resolved": Q(status=Issue.Status.RESOLVED),
    "ignored": Q(status=Issue.Status.IGNORED),
    "archived": Q(status=Issue.Status.IGNORED),
    "regressed": Q(substatus=Issue.Substatus.REGRESSED),
    "new": Q(substatus=Issue.Substatus.NEW),
    "ongoing": Q(substatus=Issue.Substatus.ONGOING),
    "escalating": Q(substatus=Issue.Substatus.ESCALATING),
    "assigned": Q(assignee_user__isnull=False) | Q(assignee_team__isnull=False),
    "unassigned": Q(assignee_user__isnull=True, assignee_team__isnull=True),
}


def _tokens(query: str) -> list[str]:
    try:
        return shlex.split(query)
    except ValueError:  # an unbalanced quote: fall back to plain words
        return query.split()


def apply_query(issues: QuerySet[Issue], query: str | None, user=None) -> QuerySet[Issue]:
    """None means no query parameter at all, which Sentry reads as `is:unresolved`. `user` is who
    `me` is (`assigned:me`, `bookmarks:me`, `is:bookmarked`)."""
    if query is None:
        query = "is:unresolved"
    words: list[str] = []
    tokens = _tokens(query)
    if len(tokens) > MAX_TERMS:
        raise SearchError(f"a search takes at most {MAX_TERMS} terms; this one has {len(tokens)}")
    for token in tokens:
        key, sep, value = token.partition(":")
        negate = key.startswith("!")
        key = key.lstrip("!")
        condition = (_personal(key, value, user) or _condition(key, value)) if sep and value else None
        if condition is None:
            words.append(token)
        else:
            issues = issues.exclude(condition) if negate else issues.filter(condition)
    if words:
        text = " ".join(words)
        issues = issues.filter(Q(title__icontains=text) | Q(culprit__icontains=text))
    return issues


def _condition(key: str, value: str) -> Q | None:
    if key == "is":
        return _STATUS.get(value.lower(), Q(pk__in=[]))
    if key in (
        "level",
        "environment",
        "release",
        "user",
        "url",
        "server_name",
        "transaction",
    ) or key.startswith("tags["):
        tag_key = key[5:-1] if key.startswith("tags[") else key
        # A semi-join per term, not a JOIN: terms on the same key do not multiply rows, and the
        # planner's cost stays flat in the number of terms.
        return Q(pk__in=IssueTag.objects.filter(key=tag_key, value=value).values("issue_id"))
    if key == "issue":
        return Q(short_id=_short_number(value))
    if key in _TRACE_KEYS:
        # Issues whose events carry the trace (an indexed column the batch writer fills).
        return Q(pk__in=Event.objects.filter(trace_id=_trace_id(value)).values("issue_id"))
    return None


_TRACE_KEYS = ("trace", "trace.id", "trace_id")


def _trace_id(value: str) -> str:
    trace = value.replace("-", "").lower()
    if len(trace) != 32 or trace.strip("0123456789abcdef"):
        raise SearchError("trace: takes a trace id of 32 hexadecimal digits")
    return trace


def _personal(key: str, value: str, user) -> Q | None:
    """Triage terms: `assigned:me|username|#team`, `bookmarks:me|username`, `is:bookmarked`."""
    if key == "is" and value == "bookmarked":
        key, value = "bookmarks", "me"
    if key not in ("assigned", "bookmarks"):
        return None
    me = getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None
    if key == "assigned" and value.startswith("#"):
        return Q(assignee_team__slug=value[1:])
    person = Q(pk=me) if value == "me" else Q(username=value)
    if key == "assigned":
        return Q(assignee_user__in=_users(person))
    return Q(pk__in=IssueBookmark.objects.filter(user__in=_users(person)).values("issue_id"))


def _users(condition: Q) -> QuerySet:
    return get_user_model().objects.filter(condition).values("pk")


def _short_number(value: str) -> int:
    try:
        return int(value.rsplit("-", 1)[-1])
    except ValueError:
        return -1
