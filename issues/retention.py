"""Retention: what is stored shrinks, what was counted stays.

One pass deletes, per project, events received more than `retention_days` ago, attachments as old,
and issues last seen before that whose events are all gone (with their hashes, tags and users); then,
for issues holding more than the project's `max_events_per_issue`, the oldest surplus events. Counters
(times_seen, user_count, tag counts) are never touched: they count what was received, not what is kept.

Every DELETE removes at most `batch_size` rows and commits on its own, so an ingest worker never
waits on cleanup for longer than one short statement. Works the same on PostgreSQL and SQLite.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from projects.models import Project

from .dictionaries import prune_superseded
from .models import Attachment, Event, Issue

BATCH_SIZE = 1000
# SQLite's write lock is not fair: a waiting ingest transaction polls it with sleeps of up to 100 ms,
# so back-to-back deletes could starve it. A pause longer than that poll lets it in between batches.
# PostgreSQL locks rows, and events being deleted are never rows a worker writes to.
SQLITE_PAUSE_SECONDS = 0.12
CANDIDATE_PAGE = 500


@dataclass
class CleanupResult:
    expired_events: int = 0
    trimmed_events: int = 0
    attachments: int = 0
    issues: int = 0
    dictionaries: int = 0
    # False when the time budget ran out first; the next pass carries on where this one stopped.
    finished: bool = True

    @property
    def deleted(self) -> int:
        return self.expired_events + self.trimmed_events + self.attachments + self.issues + self.dictionaries


@dataclass
class _Pass:
    now: datetime
    batch_size: int
    deadline: float | None
    pause: float
    result: CleanupResult

    def out_of_time(self) -> bool:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            self.result.finished = False
        return not self.result.finished

    def batches(self, delete_batch: Callable[[int], int]) -> int:
        """Repeats delete_batch(batch_size), which deletes up to that many rows and says how many,
        until a batch comes back short."""
        total = 0
        while not self.out_of_time():
            deleted = delete_batch(self.batch_size)
            total += deleted
            if deleted < self.batch_size:
                break
            if self.pause:
                time.sleep(self.pause)
        return total


def run_cleanup(
    *, batch_size: int = BATCH_SIZE, budget_seconds: float | None = None, now: datetime | None = None
) -> CleanupResult:
    """One retention pass over every project; stops early (finished=False) after budget_seconds."""
    run = _Pass(
        now=now or timezone.now(),
        batch_size=max(1, batch_size),
        deadline=None if budget_seconds is None else time.monotonic() + budget_seconds,
        pause=SQLITE_PAUSE_SECONDS if connection.vendor == "sqlite" else 0.0,
        result=CleanupResult(),
    )
    for project_id, days in Project.objects.order_by("pk").values_list("pk", "retention_days"):
        if run.out_of_time():
            break
        _expire_project(run, project_id, run.now - timedelta(days=max(1, days)))
    if not run.out_of_time():
        _trim_issues(run)
    return run.result


def _expire_project(run: _Pass, project_id: int, cutoff: datetime) -> None:
    old_events = Event.objects.filter(project_id=project_id, received__lt=cutoff)
    run.result.expired_events += run.batches(lambda n: _delete_first(Event, old_events, n))
    old_attachments = Attachment.objects.filter(project_id=project_id, created__lt=cutoff)
    run.result.attachments += run.batches(lambda n: _delete_first(Attachment, old_attachments, n))
    if not run.out_of_time():  # only once the events that may use them are gone
        run.result.dictionaries += prune_superseded(project_id, cutoff)
    # Sentry drops groups past retention too. last_seen is checked, not first_seen: an issue seen
    # recently keeps its history even when the cap or the age rule left it without stored events.
    stale = Issue.objects.filter(project_id=project_id, last_seen__lt=cutoff).filter(
        ~Exists(Event.objects.filter(issue_id=OuterRef("pk")))
    )
    run.result.issues += run.batches(lambda n: _delete_issues(stale, n))


def _delete_first(model: type[Event] | type[Attachment], rows: QuerySet, n: int) -> int:
    """One statement: DELETE ... WHERE id IN (SELECT id ... LIMIT n). Neither model has dependent
    rows, so Django deletes without collecting objects first."""
    deleted, _ = model.objects.filter(pk__in=rows.order_by().values("pk")[:n]).delete()
    return deleted


def _delete_issues(stale: QuerySet, n: int) -> int:
    # A plain probe first, so a pass with nothing to delete opens no transaction.
    probe = list(stale.order_by().values_list("pk", flat=True)[:n])
    if not probe:
        return 0
    with transaction.atomic():
        # Checked again under lock in the deleting transaction; an issue a worker is writing to right
        # now is skipped. A worker that read a hash before the delete fails its batch on the foreign
        # key and retries it (ingest/tasks.py), which then creates a new issue.
        ids = list(
            stale.filter(pk__in=probe).select_for_update(skip_locked=True).values_list("pk", flat=True)
        )
        if ids:
            Issue.objects.filter(pk__in=ids).delete()  # cascades to hashes, tags, users
    return len(ids)


def _trim_issues(run: _Pass) -> None:
    """Deletes the oldest events of issues holding more than their project's cap.

    Counting the events of every issue each pass would read the whole events table. Stored events of
    an issue never exceed times_seen, and after a pass left at most the cap, they can only exceed it
    again once times_seen has grown past the value recorded then (retention_times_seen). So only
    issues with times_seen above both are looked at: on an idle install that is one query on the
    issues table, which is small next to events, and a busy issue is looked at once per pass.
    """
    candidates = (
        Issue.objects.filter(times_seen__gt=F("project__max_events_per_issue"))
        .filter(times_seen__gt=F("retention_times_seen"))
        .order_by("pk")
        .values_list("pk", "project_id", "times_seen", "project__max_events_per_issue")
    )
    last = 0
    while not run.out_of_time():
        page = list(candidates.filter(pk__gt=last)[:CANDIDATE_PAGE])
        for issue_id, project_id, times_seen, cap in page:
            if not _trim_issue(run, issue_id, project_id, max(1, cap)):
                return
            # The times_seen read before trimming: events stored meanwhile make the issue a candidate again.
            Issue.objects.filter(pk=issue_id).update(retention_times_seen=times_seen)
        if len(page) < CANDIDATE_PAGE:
            return
        last = page[-1][0]


def _trim_issue(run: _Pass, issue_id: int, project_id: int, cap: int) -> bool:
    """Keeps the newest `cap` events by (timestamp, id), the order of event_issue_time_idx and of the
    event list; returns False when the budget ran out before the issue was done."""
    events = Event.objects.filter(issue_id=issue_id)
    newest = events.order_by("-timestamp", "-id").values_list("timestamp", "pk")
    boundary = list(newest[cap - 1 : cap])
    if not boundary:
        return True  # no more than cap stored
    timestamp, pk = boundary[0]
    surplus = events.filter(Q(timestamp__lt=timestamp) | Q(timestamp=timestamp, pk__lt=pk))
    run.result.trimmed_events += run.batches(lambda n: _delete_surplus(run, project_id, surplus, n))
    return not run.out_of_time()


def _delete_surplus(run: _Pass, project_id: int, surplus: QuerySet, n: int) -> int:
    rows = list(surplus.order_by("timestamp", "pk").values_list("pk", "event_id")[:n])
    if not rows:
        return 0
    with transaction.atomic():
        deleted, _ = Event.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
        # The attachments of a deleted event could never be shown again.
        gone, _ = Attachment.objects.filter(project_id=project_id, event_id__in=[e for _, e in rows]).delete()
    run.result.attachments += gone
    return deleted


def recheck_when_cap_lowered(sender, instance: Project, raw: bool = False, update_fields=None, **kw) -> None:
    """pre_save of Project: a lower cap applies to issues the last pass already left alone."""
    if (
        raw
        or instance.pk is None
        or "max_events_per_issue" not in (update_fields or ["max_events_per_issue"])
    ):
        return
    old = Project.objects.filter(pk=instance.pk).values_list("max_events_per_issue", flat=True).first()
    if old is not None and instance.max_events_per_issue < old:
        Issue.objects.filter(project_id=instance.pk, times_seen__gt=instance.max_events_per_issue).update(
            retention_times_seen=0
        )
