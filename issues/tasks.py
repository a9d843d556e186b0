"""Celery tasks of issues. Thin: the work lives in issues/retention.py, issues/dictionaries.py,
issues/lifecycle.py and issues/deletion.py."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from . import deletion, lifecycle
from .buckets import expire_buckets
from .dictionaries import projects_due_for_training, train_project_dictionary
from .retention import run_cleanup

log = logging.getLogger(__name__)
# Long enough to delete about a million rows, short enough that a big backlog after retention was
# lowered never holds a worker slot (one of two threads in the embedded default) for long; the
# next scheduled run continues.
CLEANUP_BUDGET_SECONDS = 60.0
LOCK_KEY = "retention-cleanup-running"


@shared_task(name="issues.tasks.cleanup_retention", ignore_result=True)
def cleanup_retention() -> int:
    """Idempotent: deleting what is already gone deletes nothing. The lock only keeps a slow run and
    the next scheduled one from doing the same work twice; it expires on its own if a worker dies."""
    if not cache.add(LOCK_KEY, 1, timeout=int(CLEANUP_BUDGET_SECONDS) * 3):
        return 0
    try:
        result = run_cleanup(budget_seconds=CLEANUP_BUDGET_SECONDS)
    finally:
        cache.delete(LOCK_KEY)
    if result.deleted:
        log.info(
            "retention deleted %d expired and %d surplus events, %d attachments, %d issues%s",
            result.expired_events,
            result.trimmed_events,
            result.attachments,
            result.issues,
            "" if result.finished else " (more next run)",
        )
    return result.deleted


@shared_task(name="issues.tasks.train_due_payload_dictionaries", ignore_result=True)
def train_due_payload_dictionaries() -> int:
    if not settings.PAYLOAD_DICTIONARY["ENABLED"]:
        return 0
    return sum(train_project_dictionary(p) is not None for p in projects_due_for_training())


@shared_task(name="issues.tasks.advance_lifecycle", ignore_result=True)
def advance_lifecycle() -> int:
    """The lifecycle's timed changes: `new` -> `ongoing` after 3 days, ignores whose time is up and
    review inbox entries older than 7 days. Idempotent: each pass changes only what is still due,
    at most BULK_LIMIT issues (inbox.EXPIRE_CHUNK entries) of each per run."""
    changed = len(lifecycle.mark_ongoing()) + len(lifecycle.end_expired_ignores())
    return changed + lifecycle.expire_inbox()


@shared_task(name="issues.tasks.expire_issue_buckets", ignore_result=True)
def expire_issue_buckets() -> int:
    """Idempotent: time buckets past their retention (issues/buckets.py)."""
    return expire_buckets()


# Long enough for a few hundred issues of 10,000 events each; the next sweep continues.
DELETION_BUDGET_SECONDS = 120.0


@shared_task(name="issues.tasks.delete_issues", ignore_result=True)
def delete_issues(issue_ids: list[int] | None = None) -> int:
    """Removes issues pending deletion: those given (lifecycle.delete asks for it at its commit),
    or without ids, the scheduled sweep, every one whose task was lost or has not run yet (also
    what the embedded runner runs, as it takes no arguments). Idempotent (issues/deletion.py)."""
    return deletion.remove_pending(issue_ids, budget_seconds=DELETION_BUDGET_SECONDS)
