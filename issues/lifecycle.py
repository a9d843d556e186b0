"""The issue lifecycle: the one home of every change to an issue's status, substatus, assignee and
grouping, whether a user makes it (pages, API) or the system does (batch writer, scheduler).

Every function takes the issues as ids and the acting user (None: the system), changes only the
issues that really change (a conditional selection under lock), and writes one Activity row per
changed issue in the same transaction. Issues are locked in id order, the order the batch writer
uses, so a triage change and a batch never wait on each other in a cycle.

Statuses and substatuses are Sentry's:
- unresolved: `new` (its first 3 days), `ongoing`, `regressed` (a resolved issue got an event),
  `escalating` (an ignore's event or user condition was met, or an issue archived until escalating
  escalated);
- ignored: `archived_forever`, `archived_until_condition_met` (the condition is an IssueSnooze),
  `archived_until_escalating` (issues/ignores.py has the rules that end each);
- resolved: no substatus; resolved in a release or in the next one (an IssueResolution) only
  regresses on events of newer releases (issues/resolutions.py decides which);
- pending_deletion: no substatus; set by delete() only, and final: the issue is hidden everywhere
  and no other change reaches it (_locked reads Issue.objects, which leaves it out) until
  issues/deletion.py removes it.

The review inbox (`is:for_review`, issues/inbox.py has Sentry's rules): new issues, regressions
and ended ignores enter it here, resolving, ignoring and marking reviewed take issues out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from core.dispatch import send_task
from core.sql import fetch, placeholders
from projects.models import Team

from . import inbox
from .ignores import IgnoreCondition, LifecycleError, SnoozeState, escalating, outgrown
from .ignores import parse_ignore_condition as parse_ignore_condition  # the page and API parse through here
from .lifecycle_input import find_assignee as find_assignee  # the pages and API parse through here
from .lifecycle_input import parse_resolution as parse_resolution
from .lifecycle_input import parse_status as parse_status
from .merge import merge_issues, unmerge_hashes
from .models import Activity, GroupHash, Issue, IssueResolution, IssueSnooze
from .participation import subscribe
from .resolutions import ReleaseResolution, still_resolved

log = logging.getLogger(__name__)

Status, Substatus, Type = Issue.Status, Issue.Substatus, Activity.Type
NEW_ISSUE_PERIOD = timedelta(days=3)
# Issues one bulk change or one scheduled pass touches (Sentry's bulk mutation limit).
BULK_LIMIT = 1000
DELETE_TASK = "issues.tasks.delete_issues"
STATUS_CHANGES = {Type.SET_RESOLVED, Type.SET_RESOLVED_IN_RELEASE, Type.SET_UNRESOLVED, Type.SET_IGNORED}


def _locked(ids: Iterable[int], condition: Q | None = None) -> list[int]:
    """Ids among `ids` that satisfy `condition`, locked (PostgreSQL) until the transaction ends.
    SQLite transactions here are immediate: the write lock already serializes every writer."""
    rows = Issue.objects.filter(condition or Q(), pk__in=sorted(set(ids))).order_by("pk")
    if connection.features.has_select_for_update:
        rows = rows.select_for_update()
    return list(rows.values_list("pk", flat=True))


def _record(issue_ids: Iterable[int], type_: str, user, data: dict | None = None) -> None:
    issue_ids = list(issue_ids)
    if user is not None and type_ in STATUS_CHANGES:
        # Whoever resolves, reopens or ignores an issue follows it from then on (as in Sentry).
        subscribe(issue_ids, user, "status_change")
    now = timezone.now()
    Activity.objects.bulk_create(
        [Activity(issue_id=i, type=type_, user=user, data=data or {}, created=now) for i in issue_ids]
    )


def set_status(
    ids: Iterable[int],
    user,
    status: str,
    condition: IgnoreCondition | None = None,
    resolution: ReleaseResolution | None = None,
) -> list[int]:
    """Resolve (in a release, in the next one), unresolve (also un-ignore) or ignore; returns the
    ids that changed."""
    status = parse_status(status)
    if status == Status.RESOLVED:
        return resolve(ids, user, resolution)
    if status == Status.UNRESOLVED:
        return unresolve(ids, user)
    return ignore(ids, user, condition or IgnoreCondition())


@transaction.atomic
def resolve(ids: Iterable[int], user, resolution: ReleaseResolution | None = None) -> list[int]:
    """A plain resolve changes unresolved, ignored and release-resolved issues; a resolve in a
    release changes every issue (it replaces an earlier one, and is recorded)."""
    ids = sorted(set(ids))
    if resolution is None:
        in_release = IssueResolution.objects.filter(issue_id__in=ids).values("issue_id")
        changed = _locked(ids, ~Q(status=Status.RESOLVED) | Q(pk__in=in_release))
    else:
        changed = _locked(ids)
    now = timezone.now()
    Issue.objects.filter(pk__in=changed).update(status=Status.RESOLVED, substatus="", resolved_at=now)
    IssueSnooze.objects.filter(issue_id__in=changed).delete()
    IssueResolution.objects.filter(issue_id__in=changed).delete()
    inbox.drop(changed)
    if resolution is None:
        _record(changed, Type.SET_RESOLVED, user)
        return changed
    since = resolution.since()
    IssueResolution.objects.bulk_create(
        IssueResolution(
            issue_id=i, type=resolution.type, release=resolution.release, since=since, actor=user, created=now
        )
        for i in changed
    )
    version = resolution.release.version if resolution.release else ""
    _record(changed, Type.SET_RESOLVED_IN_RELEASE, user, {"version": version})
    return changed


@transaction.atomic
def unresolve(ids: Iterable[int], user) -> list[int]:
    """Reopens resolved issues and un-ignores ignored ones."""
    changed = _locked(ids, ~Q(status=Status.UNRESOLVED))
    Issue.objects.filter(pk__in=changed).update(
        status=Status.UNRESOLVED, substatus=Substatus.ONGOING, resolved_at=None
    )
    IssueSnooze.objects.filter(issue_id__in=changed).delete()
    IssueResolution.objects.filter(issue_id__in=changed).delete()
    _record(changed, Type.SET_UNRESOLVED, user)
    return changed


@transaction.atomic
def ignore(ids: Iterable[int], user, condition: IgnoreCondition) -> list[int]:
    """Ignoring an ignored issue again replaces its condition (and records it)."""
    changed = _locked(ids)
    substatus = Substatus.ARCHIVED_UNTIL_CONDITION_MET
    if not condition.needs_snooze:
        substatus = (
            Substatus.ARCHIVED_UNTIL_ESCALATING if condition.until_escalating else Substatus.ARCHIVED_FOREVER
        )
    Issue.objects.filter(pk__in=changed).update(status=Status.IGNORED, substatus=substatus, resolved_at=None)
    IssueSnooze.objects.filter(issue_id__in=changed).delete()
    IssueResolution.objects.filter(issue_id__in=changed).delete()
    inbox.drop(changed)
    if condition.needs_snooze:
        now = timezone.now()
        until = now + timedelta(minutes=condition.minutes) if condition.minutes else None
        counts = Issue.objects.filter(pk__in=changed).values_list("pk", "times_seen", "user_count")
        IssueSnooze.objects.bulk_create(
            IssueSnooze(
                issue_id=pk,
                until=until,
                count=condition.count,
                user_count=condition.user_count,
                window=condition.window,
                user_window=condition.user_window,
                times_seen_at_start=seen,
                user_count_at_start=users,
                actor=user,
                created=now,
            )  # fmt: skip
            for pk, seen, users in counts
        )
    data = {"ignoreUntilEscalating": True} if condition.until_escalating else condition.details()
    _record(changed, Type.SET_IGNORED, user, data)
    return changed


# Automatic changes. The batch writer calls these inside its transaction, with the batch's issues
# already locked; the scheduler calls the passes at the end.


def regress(project_id: int, versions_by_issue: dict[int, set[str]]) -> list[int]:
    """Resolved issues that got an event reopen as `regressed`, except those resolved in a release
    that none of the events' releases is newer than (issues/resolutions.py). The conditional
    UPDATE decides, so a concurrent batch cannot regress the same issue twice."""
    held = still_resolved(project_id, versions_by_issue)
    ids = [i for i in versions_by_issue if i not in held]
    if not ids:
        return []
    rows = fetch(
        "UPDATE issues_issue SET status = 'unresolved', substatus = 'regressed', resolved_at = NULL "
        f"WHERE status = 'resolved' AND id IN ({placeholders(len(ids))}) RETURNING id",
        sorted(ids),
    )
    regressed = sorted(row[0] for row in rows)
    IssueResolution.objects.filter(issue_id__in=regressed).delete()
    _record(regressed, Type.SET_REGRESSION, None)
    inbox.enter(regressed, inbox.Reason.REGRESSION)
    return regressed


def admit_new(ids: list[int]) -> None:
    """Issues the batch writer just created enter the review inbox (one INSERT for the batch)."""
    inbox.enter(ids, inbox.Reason.NEW, fresh=True)


def end_ignores(ids: list[int], now: datetime | None = None) -> list[int]:
    """Ignored issues of a batch whose ignore has ended (issues/ignores.py has the rules), judged on
    the counters and buckets the batch writer just updated: a met event or user condition, or an
    escalation, makes the issue `escalating`; an ignore whose time is up reopens it as `ongoing`.
    One query when no issue of the batch is ignored."""
    if not ids:
        return []
    now = now or timezone.now()
    ignored = dict(Issue.objects.filter(pk__in=ids, status=Status.IGNORED).values_list("pk", "substatus"))
    waiting = [i for i, sub in ignored.items() if sub == Substatus.ARCHIVED_UNTIL_CONDITION_MET]
    rows = IssueSnooze.objects.filter(issue_id__in=waiting).values_list(
        "issue_id", "until", "count", "user_count", "window", "user_window",
        "issue__times_seen", "times_seen_at_start", "issue__user_count", "user_count_at_start",
    ) if waiting else []  # fmt: skip
    snoozes = [
        SnoozeState(issue_id, until, count, user_count, window, user_window, seen - seen_at, users - users_at)
        for issue_id, until, count, user_count, window, user_window, seen, seen_at, users, users_at in rows
    ]
    met = outgrown(snoozes, now)
    until_escalating = [i for i, sub in ignored.items() if sub == Substatus.ARCHIVED_UNTIL_ESCALATING]
    escalated = escalating(sorted(until_escalating), now)
    expired = [s.issue_id for s in snoozes if s.issue_id not in met and s.until and s.until <= now]
    _reopen(met, Substatus.ESCALATING, Type.SET_ESCALATING, "ignore_condition_met")
    _reopen(escalated, Substatus.ESCALATING, Type.SET_ESCALATING, "escalating")
    _reopen(expired, Substatus.ONGOING, Type.SET_UNRESOLVED, "ignore_duration_expired")
    return sorted(met + escalated + expired)


def _reopen(ids: list[int], substatus: str, activity: str, reason: str) -> None:
    if not ids:
        return
    snoozes = {
        s.issue_id: {
            "until": s.until.isoformat() if s.until else None,
            "count": s.count,
            "user_count": s.user_count,
            "window": s.window,
            "user_window": s.user_window,
        }
        for s in IssueSnooze.objects.filter(issue_id__in=ids)
    }
    Issue.objects.filter(pk__in=ids, status=Status.IGNORED).update(
        status=Status.UNRESOLVED, substatus=substatus
    )
    IssueSnooze.objects.filter(issue_id__in=ids).delete()
    Activity.objects.bulk_create(
        Activity(issue_id=i, type=activity, data={"reason": reason, "expired_snooze": snoozes.get(i)})
        for i in ids
    )
    why = inbox.Reason.ESCALATING if substatus == Substatus.ESCALATING else inbox.Reason.ONGOING
    inbox.enter(ids, why, details=snoozes)


@transaction.atomic
def end_expired_ignores(now: datetime | None = None) -> list[int]:
    """Scheduled: ignores whose time is up end even when no event arrives."""
    now = now or timezone.now()
    due = IssueSnooze.objects.filter(until__lte=now, issue__status=Status.IGNORED).order_by("issue_id")
    ids = _locked(list(due.values_list("issue_id", flat=True)[:BULK_LIMIT]), Q(status=Status.IGNORED))
    return end_ignores(ids, now)


@transaction.atomic
def mark_ongoing(now: datetime | None = None) -> list[int]:
    """Scheduled: an unresolved issue is `new` for its first 3 days, then `ongoing`, with or
    without new events (Sentry's auto_set_ongoing)."""
    cutoff = (now or timezone.now()) - NEW_ISSUE_PERIOD
    new = Q(status=Status.UNRESOLVED, substatus=Substatus.NEW, first_seen__lt=cutoff)
    candidates = Issue.objects.filter(new).order_by("pk").values_list("pk", flat=True)[:BULK_LIMIT]
    changed = _locked(list(candidates), new)
    Issue.objects.filter(pk__in=changed).update(substatus=Substatus.ONGOING)
    _record(changed, Type.AUTO_SET_ONGOING, None, {"after_days": NEW_ISSUE_PERIOD.days})
    return changed


# The review inbox by hand (Sentry's `inbox` in an issue update) and its expiry.


@transaction.atomic
def mark_reviewed(ids: Iterable[int], user) -> list[int]:
    """Takes issues out of the inbox (a `mark_reviewed` activity for each that was in), and, as
    Sentry's "Mark Reviewed" does, makes the unresolved ones `ongoing`. Returns the ids reviewed."""
    locked = _locked(ids)
    reviewed = inbox.leave(locked)
    _record(reviewed, Type.MARK_REVIEWED, user)
    waiting = Q(status=Status.UNRESOLVED) & ~Q(substatus=Substatus.ONGOING)
    moving = list(Issue.objects.filter(waiting, pk__in=locked).values_list("pk", flat=True))
    Issue.objects.filter(pk__in=moving).update(substatus=Substatus.ONGOING)
    _record(moving, Type.AUTO_SET_ONGOING, user, {"manually": True})
    return reviewed


@transaction.atomic
def add_to_inbox(ids: Iterable[int], user) -> list[int]:
    """`inbox: true`: back into the inbox as a manual entry (no activity type exists for it in
    Sentry; an issue already in keeps its reason)."""
    locked = _locked(ids)
    inbox.enter(locked, inbox.Reason.MANUAL)
    return locked


def expire_inbox(now: datetime | None = None) -> int:
    """Scheduled: entries older than inbox.INBOX_DAYS leave the inbox (Sentry's auto_remove_inbox,
    no activity)."""
    return inbox.expire(now)


# Assignment.


@transaction.atomic
def assign(ids: Iterable[int], user, assignee) -> list[int]:
    """Assigns to a user or a Team, or unassigns (None); the assigned user is subscribed."""
    team = assignee if isinstance(assignee, Team) else None
    person = None if team is not None else assignee
    same = Q(assignee_team=team, assignee_user=person)
    changed = _locked(ids, ~same)
    Issue.objects.filter(pk__in=changed).update(assignee_team=team, assignee_user=person)
    if assignee is None:
        _record(changed, Type.UNASSIGNED, user)
        return changed
    data = {"assignee": str(assignee.pk), "assigneeType": "team" if team else "user"}
    # For the activity stream's words (Sentry's data has the email only, which says less).
    data["assigneeName"] = f"#{team.slug}" if team is not None else assignee.get_username()
    if person is not None:
        data["assigneeEmail"] = person.email
        subscribe(changed, person, "assigned")
    _record(changed, Type.ASSIGNED, user, data)
    return changed


# Grouping changes and deletion.


@transaction.atomic
def merge(issues: list[Issue], user) -> tuple[Issue, list[Issue]]:
    """Like Sentry, the issue with the most events becomes the parent; the children's history
    moves with their events."""
    if len({i.pk for i in issues}) < 2:
        raise LifecycleError("merging needs at least two issues")
    parent = max(issues, key=lambda i: (i.times_seen, -i.pk))
    children = sorted((i for i in issues if i.pk != parent.pk), key=lambda i: i.pk)
    Activity.objects.filter(issue_id__in=[c.pk for c in children]).update(issue=parent)
    merge_issues(parent, children)
    merged = [{"id": str(c.pk), "shortId": c.short_id_display} for c in children]
    _record([parent.pk], Type.MERGE, user, {"issues": merged})
    return parent, children


@transaction.atomic
def unmerge(issue: Issue, hashes: list[str], user) -> Issue | None:
    new_issue = unmerge_hashes(issue, hashes)
    if new_issue is not None:
        moved = sorted(set(hashes) & set(new_issue.hashes.values_list("hash", flat=True)))
        _record(
            [issue.pk], Type.UNMERGE_SOURCE, user, {"fingerprints": moved, "destination_id": new_issue.pk}
        )
        _record(
            [new_issue.pk], Type.UNMERGE_DESTINATION, user, {"fingerprints": moved, "source_id": issue.pk}
        )
    return new_issue


@transaction.atomic
def delete(ids: Iterable[int], user) -> int:
    """Marks issues pending deletion, as Sentry does: from the commit on they are gone from every
    list, search, page and API answer (Issue.objects leaves them out), and their grouping hashes
    are dropped here, so the next event with one of them starts a new issue rather than reviving
    this one (Sentry drops the hashes the same way; its tombstones are for "delete and discard",
    which LightTrace does not have). A task removes the rows (issues/deletion.py), asked for at the
    commit; a scheduled sweep takes up marks whose task was lost. The history goes with the issue,
    so the deletion and its actor are logged instead of recorded. Returns the issues marked."""
    changed = _locked(ids)
    if not changed:
        return 0
    Issue.objects.filter(pk__in=changed).update(status=Status.PENDING_DELETION, substatus="")
    GroupHash.objects.filter(issue_id__in=changed).delete()
    transaction.on_commit(lambda: send_task(DELETE_TASK, [changed]))
    log.info("user %s deleted %d issues: %s", getattr(user, "pk", None), len(changed), changed[:50])
    return len(changed)
