"""Removing the rows of issues pending deletion, after issues/lifecycle.delete marked them.

The mark hides an issue at once (Issue.objects leaves it out) and drops its grouping hashes, so the
next event with one of them starts a new issue, as in Sentry. What remains is work for a task:
events (up to the project's cap per issue, 10,000 by default), tags, users, time buckets, activity,
alert rows and so on, every table that refers to the issue, found from the model's relations, so
a table added later is not forgotten. Each statement touches at most DELETE_CHUNK rows of one
table, each in its own transaction: no statement holds locks for long, and a crash loses at most
the chunk in progress.

Idempotent, and safe to run twice at once: an issue is claimed (a lease in the cache, as the
retention task's lock) before it is worked on, and only issues still pending deletion are touched.
A worker killed mid-issue leaves its lease to expire after LEASE_SECONDS; the scheduled sweep
(remove_pending without ids) then takes the issue up again, as it takes up issues whose task never
ran (a lost message, a killed worker before it started, the embedded runner down at the time).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from django.core.cache import cache
from django.db import models, transaction

from .models import Issue

log = logging.getLogger(__name__)

DELETE_CHUNK = 1000
# Longer than one issue takes (10,000 events: about ten chunks, each renewing the lease).
LEASE_SECONDS = 600
# Issues one sweep looks at; the next sweep takes the rest.
SWEEP_LIMIT = 1000
PENDING = Issue.Status.PENDING_DELETION


def _lease_key(issue_id: int) -> str:
    return f"issue-deletion:{issue_id}"


def _children() -> list[tuple[type[models.Model], str]]:
    """(model, field name) of every table with a foreign key to Issue, in any app, events first
    (most of the rows). include_hidden: most of them have related_name="+"."""
    relations = [
        (rel.related_model, rel.field.name)
        for rel in Issue._meta.get_fields(include_hidden=True)
        if rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)
        and rel.on_delete is models.CASCADE
    ]  # fmt: skip
    return sorted(relations, key=lambda r: (r[0]._meta.label != "issues.Event", r[0]._meta.label))


def _delete_rows(model: type[models.Model], field: str, issue_id: int) -> int:
    """The rows of `model` that refer to the issue, DELETE_CHUNK per statement. Ends when a select
    finds none (not when a delete deletes none: a concurrent run may have taken that chunk)."""
    deleted = 0
    rows = model._base_manager.filter(**{f"{field}_id": issue_id}).order_by()
    while True:
        chunk = list(rows.values_list("pk", flat=True)[:DELETE_CHUNK])
        if not chunk:
            return deleted
        with transaction.atomic():
            deleted += model._base_manager.filter(pk__in=chunk).delete()[0]
        cache.touch(_lease_key(issue_id), LEASE_SECONDS)


def remove_issue(issue_id: int) -> bool:
    """Removes one issue pending deletion and everything that refers to it; False when it is not
    (no longer) pending deletion or another worker holds it."""
    if not cache.add(_lease_key(issue_id), 1, timeout=LEASE_SECONDS):
        return False
    try:
        if not Issue.all_objects.filter(pk=issue_id, status=PENDING).exists():
            return False
        for model, field in _children():
            _delete_rows(model, field, issue_id)
        with transaction.atomic():
            # Only now, with nothing left to cascade to: one short statement.
            return bool(Issue.all_objects.filter(pk=issue_id, status=PENDING).delete()[0])
    finally:
        cache.delete(_lease_key(issue_id))


def remove_pending(issue_ids: Iterable[int] | None = None, budget_seconds: float | None = None) -> int:
    """Removes the given issues if they are pending deletion (never any other); without ids, the
    sweep: every issue pending deletion, oldest mark first, up to SWEEP_LIMIT. Stops after
    budget_seconds; what is left waits for the next sweep. Returns the issues removed."""
    pending = Issue.all_objects.filter(status=PENDING).order_by("pk")
    if issue_ids is not None:
        pending = pending.filter(pk__in=sorted(set(issue_ids)))
    started = time.monotonic()
    removed = []
    for issue_id in list(pending.values_list("pk", flat=True)[:SWEEP_LIMIT]):
        if budget_seconds is not None and time.monotonic() - started > budget_seconds:
            break
        if remove_issue(issue_id):
            removed.append(issue_id)
    if removed:
        log.info("removed %d issues pending deletion: %s", len(removed), removed[:50])
    return len(removed)
