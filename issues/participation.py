"""Per-user relations to issues: bookmarks, "seen" and subscriptions.

These are a user's own flags, not changes of the issue, so they write no activity. Each write is
an upsert or a delete on a unique (issue, user) pair, safe under concurrency. The readers take a
page of issue ids and answer in a fixed number of queries, whatever the page size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from core.sql import insert_rows

from .models import IssueBookmark, IssueSeen, IssueSubscription


@dataclass
class UserFlags:
    bookmarked: set[int] = field(default_factory=set)
    seen: set[int] = field(default_factory=set)
    subscribed: set[int] = field(default_factory=set)


def set_bookmarked(ids: Iterable[int], user, on: bool) -> None:
    ids = sorted(set(ids))
    if on:
        insert_rows(
            "issues_issuebookmark",
            ["issue_id", "user_id", "created"],
            [(i, user.pk, timezone.now()) for i in ids],
            conflict=["issue_id", "user_id"],
        )
        subscribe(ids, user, IssueSubscription.Reason.BOOKMARK)
    else:
        IssueBookmark.objects.filter(issue_id__in=ids, user=user).delete()


def set_seen(ids: Iterable[int], user, on: bool) -> None:
    ids = sorted(set(ids))
    if not on:
        IssueSeen.objects.filter(issue_id__in=ids, user=user).delete()
        return
    insert_rows(
        "issues_issueseen",
        ["issue_id", "user_id", "last_seen"],
        [(i, user.pk, timezone.now()) for i in ids],
        conflict=["issue_id", "user_id"],
        update_sql="last_seen = excluded.last_seen",
    )


def set_subscribed(ids: Iterable[int], user, on: bool) -> None:
    """An explicit choice: it overrides earlier automatic subscriptions and prevents later ones."""
    ids = sorted(set(ids))
    subscribe(ids, user, IssueSubscription.Reason.UNKNOWN)
    IssueSubscription.objects.filter(issue_id__in=ids, user=user).update(is_active=on)


def subscribe(ids: Iterable[int], user, reason: str) -> None:
    """Subscribes `user` where they have made no choice yet (assignee, commenter, bookmark)."""
    insert_rows(
        "issues_issuesubscription",
        ["issue_id", "user_id", "is_active", "reason", "created"],
        [(i, user.pk, True, reason, timezone.now()) for i in sorted(set(ids))],
        conflict=["issue_id", "user_id"],
    )


def user_flags(ids: list[int], user) -> UserFlags:
    """Three queries for any number of issues."""
    if not ids or not getattr(user, "is_authenticated", False):
        return UserFlags()
    return UserFlags(
        bookmarked=set(
            IssueBookmark.objects.filter(issue_id__in=ids, user=user).values_list("issue_id", flat=True)
        ),
        seen=set(IssueSeen.objects.filter(issue_id__in=ids, user=user).values_list("issue_id", flat=True)),
        subscribed=set(
            IssueSubscription.objects.filter(issue_id__in=ids, user=user, is_active=True).values_list(
                "issue_id", flat=True
            )
        ),
    )


def participants(issue_id: int) -> list:
    """Users subscribed to the issue (Sentry's `participants`)."""
    user_ids = IssueSubscription.objects.filter(issue_id=issue_id, is_active=True).values("user_id")
    return list(get_user_model().objects.filter(pk__in=user_ids).order_by("username"))


def seen_by(issue_id: int, limit: int = 100) -> list[tuple[object, datetime]]:
    rows = IssueSeen.objects.filter(issue_id=issue_id).select_related("user").order_by("-last_seen")[:limit]
    return [(row.user, row.last_seen) for row in rows]
