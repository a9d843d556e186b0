"""Sentry's issue search, compiled to database conditions. The syntax is parsed by the pure
issues/search_syntax.py; this module turns each Term into a Q on Issue and its rows (IssueTag,
bookmarks, seen, releases), every one an index lookup or a semi-join, never a scan of events.

How the event facts are answered: `level`, `firstRelease`, `error.type`, `error.value`, `message`,
free text: the issue's own columns (title, culprit, level, first_release, metadata of its events'
main exception); `environment`, `release`, `has:` and any other key: the issue's tag rows, which
the batch writer keeps per (issue, key, value); `user.id:`, `user.email:`, `user.username:`,
`user.ip:`: the identifier columns of the issue's affected users (IssueUser, one row per issue and
user, each column with its own partial index);
`trace:` (also `trace.id:`, `trace_id:`): the events' indexed trace id column.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from projects.models import Team
from releases.models import Release

from . import inbox
from .eventinfo import USER_COLUMNS, clip_identifier
from .models import Event, Issue, IssueBookmark, IssueSeen, IssueTag, IssueUser
from .search_syntax import MAX_TERMS, SearchError, Term, parse

__all__ = ["MAX_TERMS", "SearchError", "apply_query", "compile_terms"]

DEFAULT_QUERY = "is:unresolved"

_STATUS = {
    "unresolved": Q(status=Issue.Status.UNRESOLVED),
    "resolved": Q(status=Issue.Status.RESOLVED),
    "ignored": Q(status=Issue.Status.IGNORED),
    "regressed": Q(status=Issue.Status.UNRESOLVED, substatus=Issue.Substatus.REGRESSED),
    "new": Q(status=Issue.Status.UNRESOLVED, substatus=Issue.Substatus.NEW),
    "ongoing": Q(status=Issue.Status.UNRESOLVED, substatus=Issue.Substatus.ONGOING),
    "escalating": Q(status=Issue.Status.UNRESOLVED, substatus=Issue.Substatus.ESCALATING),
    "assigned": Q(assignee_user__isnull=False) | Q(assignee_team__isnull=False),
    "unassigned": Q(assignee_user__isnull=True, assignee_team__isnull=True),
}
_COMPARE = {"=": "exact", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}
_COLUMNS = {"age": "first_seen", "firstSeen": "first_seen", "lastSeen": "last_seen"}
_COLUMNS |= {"timesSeen": "times_seen", "users": "user_count"}
_USER_FIELDS = {"user.id": "id", "user.email": "email", "user.username": "username", "user.ip": "ip_address"}


def apply_query(issues: QuerySet[Issue], query: str | None, user=None) -> QuerySet[Issue]:
    """None means no query parameter at all, which Sentry reads as `is:unresolved`. `user` is who
    `me` is (`assigned:me`, `bookmarks:me`, `is:bookmarked`). Raises SearchError."""
    terms = parse(DEFAULT_QUERY if query is None else query)
    return compile_terms(issues, terms, user)


def compile_terms(issues: QuerySet[Issue], terms: list[Term], user=None) -> QuerySet[Issue]:
    for term in terms:
        condition = _condition(term, user)
        issues = issues.exclude(condition) if term.negated else issues.filter(condition)
    return issues


def _condition(term: Term, user) -> Q:
    if term.key in _COLUMNS:
        value = term.when if term.when is not None else term.number
        return Q(**{f"{_COLUMNS[term.key]}__{_COMPARE[term.op]}": value})
    handler = _HANDLERS.get(term.key)
    if handler is not None:
        return handler(term, user)
    if term.key in _USER_FIELDS:
        return _affected_user(_USER_FIELDS[term.key], term.values)
    return _tag(term.tag_key or term.key, term.values)


def _any(conditions: list[Q]) -> Q:
    result = conditions[0]
    for condition in conditions[1:]:
        result |= condition
    return result


def _tag(key: str, values) -> Q:
    # A semi-join per term, not a JOIN: terms on the same key do not multiply rows, and the
    # planner's cost stays flat in the number of terms (index issuetag_key_value_idx).
    return Q(pk__in=IssueTag.objects.filter(key=key, value__in=list(values)).values("issue_id"))


def _affected_user(field: str, values) -> Q:
    # Values cut as the writer cuts them (a long email still finds its user): index issueuser_*_idx.
    column, limit = USER_COLUMNS[field]
    wanted = sorted({clip_identifier(v, limit) for v in values})
    return Q(pk__in=IssueUser.objects.filter(**{f"{column}__in": wanted}).values("issue_id"))


def _is(term: Term, user) -> Q:
    return _any([_is_one(value, user) for value in term.values])


def _is_one(value: str, user) -> Q:
    if value == "bookmarked":
        return _bookmarks(Term("bookmarks", ("me",)), user)
    if value == "for_review":
        return inbox.in_inbox()  # the review inbox (issues/inbox.py), as Sentry's GroupInbox
    if value in ("read", "unread"):
        seen = Exists(
            IssueSeen.objects.filter(
                issue_id=OuterRef("pk"), user_id=_me(user), last_seen__gte=OuterRef("last_seen")
            )
        )
        return Q(seen) if value == "read" else ~Q(seen)
    return _STATUS[value]


def _me(user) -> int | None:
    return user.pk if getattr(user, "is_authenticated", False) else None


def _assigned(term: Term, user) -> Q:
    conditions = []
    for value in term.values:
        if value == "none":
            conditions.append(_STATUS["unassigned"])
        elif value == "me":
            conditions.append(Q(assignee_user_id=_me(user)))
        elif value == "my_teams":
            teams = Team.objects.filter(members__pk=_me(user)).values("pk")
            conditions.append(Q(assignee_team__in=teams))
        elif value.startswith("#"):
            conditions.append(Q(assignee_team__slug=value[1:]))
        else:
            conditions.append(Q(assignee_user__in=_users(value, user)))
    return _any(conditions)


def _bookmarks(term: Term, user) -> Q:
    people = get_user_model().objects.filter(_any([_person(v, user) for v in term.values])).values("pk")
    return Q(pk__in=IssueBookmark.objects.filter(user__in=people).values("issue_id"))


def _users(value: str, user):
    return get_user_model().objects.filter(_person(value, user)).values("pk")


def _person(value: str, user) -> Q:
    return Q(pk=_me(user)) if value == "me" else Q(username=value) | Q(email__iexact=value)


def _has(term: Term, user) -> Q:
    return _any([Q(pk__in=IssueTag.objects.filter(key=key).values("issue_id")) for key in term.values])


def _release(term: Term, user) -> Q:
    values = [v for v in term.values if v != "latest"]
    conditions = [_tag("release", values)] if values else []
    if "latest" in term.values:
        conditions.append(Q(Exists(_latest_release_tag())))
    return _any(conditions)


def _latest_release_tag():
    """The issue has a tag row for its organization's newest release (by creation, Sentry's order)."""
    latest = Release.objects.filter(organization_id=OuterRef(OuterRef("project__organization_id")))
    latest_version = latest.order_by("-date_added", "-pk").values("version")[:1]
    return IssueTag.objects.filter(issue_id=OuterRef("pk"), key="release", value=Subquery(latest_version))


def _first_release(term: Term, user) -> Q:
    values = [v for v in term.values if v != "latest"]
    condition = Q(first_release__in=values)
    if "latest" in term.values:
        latest = Release.objects.filter(organization_id=OuterRef("project__organization_id"))
        condition |= Q(first_release=Subquery(latest.order_by("-date_added", "-pk").values("version")[:1]))
    return condition


def _short_id(term: Term, user) -> Q:
    """`WEB-12`: the project's slug in capitals and the number; a word that only looks like one
    (`utf-8`) still finds issues by their text."""
    word = term.values[0]
    prefix, _, number = word.rpartition("-")
    return Q(project__slug__iexact=prefix, short_id=int(number)) | _text(Term("text", (word,)), user)


def _text(term: Term, user) -> Q:
    text = term.values[0]
    return Q(title__icontains=text) | Q(culprit__icontains=text)


def _contains(field: str):
    def condition(term: Term, user) -> Q:
        return _any([Q(**{f"{field}__icontains": v}) for v in term.values])

    return condition


def _error_type(term: Term, user) -> Q:
    return Q(metadata__type__in=list(term.values))


def _message(term: Term, user) -> Q:
    return _any([Q(title__icontains=v) | Q(metadata__value__icontains=v) for v in term.values])


_HANDLERS = {
    "is": _is,
    "assigned": _assigned,
    "bookmarks": _bookmarks,
    "has": _has,
    "release": _release,
    "firstRelease": _first_release,
    "short_id": _short_id,
    "issue": lambda term, user: _any([_short_id(Term("short_id", (v,)), user) for v in term.values]),
    "text": _text,
    "level": lambda term, user: Q(level__in=[v.lower() for v in term.values]),
    "environment": lambda term, user: _tag("environment", term.values),
    "error.type": _error_type,
    "error.value": _contains("metadata__value"),
    "title": _contains("title"),
    "culprit": _contains("culprit"),
    "message": _message,
    # Issues whose events carry the trace (an indexed column the batch writer fills).
    "trace": lambda term, user: Q(pk__in=Event.objects.filter(trace_id__in=term.values).values("issue_id")),
}
