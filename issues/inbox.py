"""The review inbox's rows (IssueInbox, Sentry's GroupInbox): what `is:for_review` lists. This module
reads and writes only those rows; issues/lifecycle.py decides when an issue enters or leaves (and
records who did it), the search and the serializers read through here.

Sentry's rules, which lifecycle applies: an issue enters as new (the batch writer, when it creates
it), as a regression, as escalating or ongoing when an ignore ends, or by hand (`inbox: true`); it
leaves when someone marks it reviewed, resolves or ignores it, and INBOX_DAYS after it entered
(Sentry's auto_remove_inbox: the scheduler deletes those rows, and until it has, the search and the
API already treat them as gone). Entering while already in keeps the first reason and date.
A manual unresolve or un-ignore does not put an issue in, as in Sentry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from .models import IssueInbox

Reason = IssueInbox.Reason
INBOX_DAYS = 7
# Rows one scheduled pass deletes at most; the next pass continues.
EXPIRE_CHUNK = 10_000
REASON_WORDS = {
    Reason.NEW: "New issue",
    Reason.UNIGNORED: "Unignored",
    Reason.REGRESSION: "Regression",
    Reason.MANUAL: "Manual",
    Reason.REPROCESSED: "Reprocessed",
    Reason.ESCALATING: "Escalating",
    Reason.ONGOING: "Ongoing",
}


def cutoff(now: datetime | None = None) -> datetime:
    """Entries added before this have expired."""
    return (now or timezone.now()) - timedelta(days=INBOX_DAYS)


def in_inbox(now: datetime | None = None) -> Q:
    """The condition on Issue of `is:for_review`: a semi-join on the (small) inbox table."""
    return Q(pk__in=IssueInbox.objects.filter(date_added__gte=cutoff(now)).values("issue_id"))


def enter(
    ids: Iterable[int],
    reason: int,
    details: Mapping[int, dict | None] | None = None,
    now: datetime | None = None,
    fresh: bool = False,
) -> None:
    """Puts issues in the inbox with one INSERT ... ON CONFLICT DO NOTHING: an issue already in
    keeps its reason and date. An expired row still waiting for the scheduler is replaced first,
    unless the caller knows there is none (`fresh`: issues created in this transaction)."""
    ids = sorted(set(ids))
    if not ids:
        return
    now = now or timezone.now()
    if not fresh:
        IssueInbox.objects.filter(issue_id__in=ids, date_added__lt=cutoff(now)).delete()
    details = details or {}
    IssueInbox.objects.bulk_create(
        [IssueInbox(issue_id=i, reason=reason, reason_details=details.get(i), date_added=now) for i in ids],
        ignore_conflicts=True,
    )


def leave(ids: Iterable[int], now: datetime | None = None) -> list[int]:
    """Takes issues out of the inbox; returns those that were in it (not expired)."""
    rows = IssueInbox.objects.filter(issue_id__in=sorted(set(ids)))
    were_in = sorted(rows.filter(date_added__gte=cutoff(now)).values_list("issue_id", flat=True))
    rows.delete()
    return were_in


def drop(ids: Iterable[int]) -> None:
    """Takes issues out of the inbox, one DELETE (resolve, ignore: nobody needs to know who was in)."""
    IssueInbox.objects.filter(issue_id__in=sorted(set(ids))).delete()


def expire(now: datetime | None = None) -> int:
    """Deletes up to EXPIRE_CHUNK expired entries, oldest first; idempotent."""
    old = IssueInbox.objects.filter(date_added__lt=cutoff(now)).order_by("date_added")
    ids = list(old.values_list("pk", flat=True)[:EXPIRE_CHUNK])
    return IssueInbox.objects.filter(pk__in=ids).delete()[0] if ids else 0


def entries(issue_ids: Iterable[int], now: datetime | None = None) -> dict[int, IssueInbox]:
    """The current (not expired) entries of these issues, one query."""
    ids = sorted(set(issue_ids))
    if not ids:
        return {}
    rows = IssueInbox.objects.filter(issue_id__in=ids, date_added__gte=cutoff(now))
    return {row.issue_id: row for row in rows}
