"""Merging issues and unmerging hashes out of an issue. Each is one transaction.

Merge moves the hashes, events, users and tag counts of the merged issues into the target, so future
events of any merged hash land in the target. Unmerge moves hashes and the events they brought in to
a new issue and recounts both issues from their stored events.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Count, Max, Min

from core.sql import execute, fetch, insert_rows, placeholders
from feedback.store import follow_events, move_reports

from .buckets import merge_buckets
from .eventinfo import user_identifiers
from .models import Event, GroupHash, Issue, IssueTag, IssueUser
from .payload import decode_event_data

_COLUMNS = ("ident", "email", "username", "ip_address")
_IDENTIFIERS = ", ".join(_COLUMNS)
_ANY_IDENTIFIER = ", ".join(f"MAX({c})" for c in _COLUMNS)
_FILL_USER = ", ".join(f"{c} = COALESCE(issues_issueuser.{c}, excluded.{c})" for c in _COLUMNS)


def _lock(issue_ids: list[int]) -> set[int]:
    """Locks the issues (PostgreSQL) and returns those still there: one deleted since the caller
    read it (pending deletion, left out by Issue.objects) must not hand its events over."""
    rows = Issue.objects.filter(pk__in=sorted(issue_ids)).order_by("pk")
    if connection.features.has_select_for_update:
        rows = rows.select_for_update()
    return set(rows.values_list("pk", flat=True))


@transaction.atomic
def merge_issues(target: Issue, sources: list[Issue]) -> Issue:
    source_ids = sorted({s.pk for s in sources if s.pk != target.pk})
    if not source_ids:
        return target
    live = _lock([target.pk, *source_ids])
    source_ids = [i for i in source_ids if i in live]
    if target.pk not in live or not source_ids:
        return target
    marks = placeholders(len(source_ids))
    GroupHash.objects.filter(issue_id__in=source_ids).update(issue=target)
    Event.objects.filter(issue_id__in=source_ids).update(issue=target)
    move_reports(source_ids, target.pk)
    # SQLite needs a WHERE in INSERT ... SELECT ... ON CONFLICT; the IN clause is it. One row per
    # user (two merged issues may share one), and the target's user gains identifiers it lacked.
    execute(
        f"INSERT INTO issues_issueuser (issue_id, user_key, {_IDENTIFIERS}) "
        f"SELECT %s, user_key, {_ANY_IDENTIFIER} FROM issues_issueuser WHERE issue_id IN ({marks}) "
        f"GROUP BY user_key ON CONFLICT (issue_id, user_key) DO UPDATE SET {_FILL_USER}",
        [target.pk, *source_ids],
    )
    execute(
        "INSERT INTO issues_issuetag (issue_id, key, value, times_seen, first_seen, last_seen) "
        "SELECT %s, key, value, SUM(times_seen), MIN(first_seen), MAX(last_seen) FROM issues_issuetag "
        f"WHERE issue_id IN ({marks}) GROUP BY key, value ON CONFLICT (issue_id, key, value) DO UPDATE SET "
        "times_seen = issues_issuetag.times_seen + excluded.times_seen, "
        "first_seen = CASE WHEN excluded.first_seen < issues_issuetag.first_seen THEN excluded.first_seen "
        "ELSE issues_issuetag.first_seen END, "
        "last_seen = CASE WHEN excluded.last_seen > issues_issuetag.last_seen THEN excluded.last_seen "
        "ELSE issues_issuetag.last_seen END",
        [target.pk, *source_ids],
    )
    totals = Issue.objects.filter(pk__in=[target.pk, *source_ids]).aggregate(
        first=Min("first_seen"), last=Max("last_seen")
    )
    times_seen = sum(
        Issue.objects.filter(pk__in=[target.pk, *source_ids]).values_list("times_seen", flat=True)
    )
    merge_buckets(target.pk, source_ids)
    Issue.objects.filter(pk__in=source_ids).delete()
    Issue.objects.filter(pk=target.pk).update(
        times_seen=times_seen,
        first_seen=totals["first"],
        last_seen=totals["last"],
        user_count=IssueUser.objects.filter(issue_id=target.pk).count(),
    )
    target.refresh_from_db()
    return target


@transaction.atomic
def unmerge_hashes(issue: Issue, hashes: list[str]) -> Issue | None:
    """Move `hashes` (and the events whose primary hash they are) to a new issue; returns it."""
    if not _lock([issue.pk]):
        return None  # deleted since
    moving = list(GroupHash.objects.filter(issue=issue, hash__in=hashes).values_list("hash", flat=True))
    if not moving or GroupHash.objects.filter(issue=issue).count() == len(moving):
        return None  # nothing to move, or it would leave the issue without any hash
    (last,) = fetch(
        "UPDATE projects_project SET issue_counter = issue_counter + 1 WHERE id = %s RETURNING issue_counter",
        [issue.project_id],
    )[0]
    fields = {f.name: getattr(issue, f.name) for f in Issue._meta.concrete_fields if f.name not in ("id",)}
    new_issue = Issue.objects.create(**{**fields, "short_id": last, "substatus": Issue.Substatus.NEW})
    GroupHash.objects.filter(issue=issue, hash__in=moving).update(issue=new_issue)
    Event.objects.filter(issue=issue, primary_hash__in=moving).update(issue=new_issue)
    follow_events(issue.pk, new_issue.pk)
    for target in (issue, new_issue):
        _recount(target)
    new_issue.refresh_from_db()
    return new_issue


def _recount(issue: Issue) -> None:
    events = Event.objects.filter(issue=issue)
    stats = events.aggregate(n=Count("id"), first=Min("timestamp"), last=Max("timestamp"))
    tags, users = _tags_and_users(events)
    IssueUser.objects.filter(issue=issue).delete()
    insert_rows(
        "issues_issueuser",
        ["issue_id", "user_key", *_COLUMNS],
        [(issue.pk, key, *identifiers) for key, identifiers in sorted(users.items())],
    )
    IssueTag.objects.filter(issue=issue).delete()
    insert_rows(
        "issues_issuetag",
        ["issue_id", "key", "value", "times_seen", "first_seen", "last_seen"],
        [(issue.pk, k, v, *agg) for (k, v), agg in sorted(tags.items())],
    )
    Issue.objects.filter(pk=issue.pk).update(
        times_seen=stats["n"],
        first_seen=stats["first"] or issue.first_seen,
        last_seen=stats["last"] or issue.last_seen,
        user_count=len(users),
        # times_seen was just recounted: let retention look at the issue's stored events again.
        retention_times_seen=0,
    )


def _tags_and_users(events) -> tuple[dict[tuple[str, str], list], dict[str, list]]:
    """From the stored events: each tag's count, first and last seen, and each user's identifiers
    (the first sent of each, as the batch writer keeps them)."""
    tags: dict[tuple[str, str], list] = {}
    users: dict[str, list] = {}
    rows = events.values_list("timestamp", "user_key", "data").order_by("timestamp", "id")
    for timestamp, user_key, data in rows.iterator(chunk_size=200):
        event = decode_event_data(data)
        for key, value in event.get("tags") or ():
            entry = tags.setdefault((key, value), [0, timestamp, timestamp])
            entry[0] += 1
            entry[1], entry[2] = min(entry[1], timestamp), max(entry[2], timestamp)
        if user_key:
            known = users.setdefault(user_key, [None] * 4)
            known[:] = [old or new for old, new in zip(known, user_identifiers(event), strict=True)]
    return tags, users
