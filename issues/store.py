"""The batch writer: one transaction stores a batch of processed events and updates their issues.

Idempotent: an event_id already stored in the project is skipped and not counted again, so a batch
redelivered after a worker crash changes nothing. Counters move only by the rows that RETURNING says
were really inserted. Rows are touched in sorted order so concurrent batches cannot deadlock.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction

from core.sql import execute, fetch, insert_rows, placeholders, upsert
from feedback.store import link_reports
from releases.ingest import record_releases

from . import lifecycle
from .buckets import record_buckets
from .models import Issue


@dataclass
class PreparedEvent:
    event_id: str
    timestamp: datetime
    received: datetime
    level: str
    platform: str
    type: str
    title: str
    culprit: str
    metadata: dict
    release: str
    environment: str
    user_key: str
    trace_id: str
    tags: list[tuple[str, str]]
    hashes: list[str]
    config_id: str
    data: bytes
    # Every identifier of the event's user: id, email, username, IP address (None: not sent), kept
    # on its IssueUser row for the search's `user.email:` ... (issues/eventinfo.user_identifiers).
    user: tuple[str | None, ...] = (None, None, None, None)


@dataclass
class StoreResult:
    stored: int = 0
    new_issue_ids: list[int] = field(default_factory=list)
    regressed_issue_ids: list[int] = field(default_factory=list)
    # Ignored issues whose ignore ended with this batch (more events or users than allowed, or time up).
    unignored_issue_ids: list[int] = field(default_factory=list)
    issue_ids: list[int] = field(default_factory=list)
    # Per issue, the events of this batch really inserted (alert facts are taken from them).
    events_by_issue: dict[int, list[PreparedEvent]] = field(default_factory=dict)


class IssueDeletedMeanwhile(Exception):
    """An issue this batch mapped events to was marked for deletion before the batch locked it."""


# A deletion that lands between a batch's hash lookup and its lock makes the batch start over; the
# second lookup no longer finds the deleted issue's hashes. More attempts only if deletions keep
# landing in that window.
STORE_ATTEMPTS = 3


def store_events(project_id: int, events: list[PreparedEvent]) -> StoreResult:
    unique: dict[str, PreparedEvent] = {}
    for event in events:
        unique.setdefault(event.event_id, event)
    if not unique:
        return StoreResult()
    for attempt in range(STORE_ATTEMPTS):
        try:
            return _store(project_id, unique)
        except IssueDeletedMeanwhile:
            if attempt == STORE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _store(project_id: int, unique: dict[str, PreparedEvent]) -> StoreResult:
    result = StoreResult()
    with transaction.atomic():
        fresh = _skip_stored(project_id, list(unique.values()))
        if not fresh:
            return result
        issue_of, new_issue_ids = _resolve_issues(project_id, fresh)
        inserted = _insert_events(project_id, fresh, issue_of)
        if not inserted:  # a concurrent worker stored every one of them first: nothing to count
            return result
        link_reports(project_id, {e.event_id: issue_of[e.event_id] for e in inserted})
        by_issue: dict[int, list[PreparedEvent]] = defaultdict(list)
        for event in inserted:
            by_issue[issue_of[event.event_id]].append(event)
        result.regressed_issue_ids = _update_issues(project_id, by_issue, new_issue_ids)
        lifecycle.admit_new(sorted(i for i in new_issue_ids if i in by_issue))
        _upsert_users(by_issue)
        _upsert_tags(by_issue)
        record_buckets(project_id, by_issue)
        record_releases(
            project_id, inserted, [by_issue[i][0] for i in sorted(new_issue_ids) if i in by_issue]
        )
        # After the counters: an "until N more events/users" ignore is judged on the new counts.
        result.unignored_issue_ids = lifecycle.end_ignores(sorted(by_issue))
    result.stored = len(inserted)
    result.new_issue_ids = sorted(i for i in new_issue_ids if i in by_issue)
    result.issue_ids = sorted(by_issue)
    result.events_by_issue = dict(by_issue)
    return result


def _skip_stored(project_id: int, events: list[PreparedEvent]) -> list[PreparedEvent]:
    ids = [e.event_id for e in events]
    stored = {
        row[0]
        for row in fetch(
            f"SELECT event_id FROM issues_event WHERE project_id = %s AND event_id IN ({placeholders(len(ids))})",
            [project_id, *ids],
        )
    }
    return [e for e in events if e.event_id not in stored]


def _known_hashes(project_id: int, hashes: set[str]) -> dict[str, int]:
    if not hashes:
        return {}
    rows = fetch(
        f"SELECT hash, issue_id FROM issues_grouphash WHERE project_id = %s AND hash IN ({placeholders(len(hashes))})",
        [project_id, *sorted(hashes)],
    )
    return dict(rows)


def _resolve_issues(project_id: int, events: list[PreparedEvent]) -> tuple[dict[str, int], set[int]]:
    """Map each event to an issue, creating issues for hashes never seen in the project."""
    known = _known_hashes(project_id, {h for e in events for h in e.hashes})
    new_issue_ids: set[int] = set()
    firsts: dict[str, PreparedEvent] = {}
    for event in events:
        if not any(h in known for h in event.hashes):
            firsts.setdefault(event.hashes[0], event)
    if firsts:
        created = _create_issues(project_id, list(firsts.values()))
        claimed = insert_rows(
            "issues_grouphash",
            ["project_id", "hash", "config", "issue_id"],
            sorted((project_id, h, firsts[h].config_id, created[h]) for h in firsts),
            conflict=["project_id", "hash"],
            returning=["hash"],
        )
        claimed_hashes = {row[0] for row in claimed}
        # A concurrent worker may have claimed a hash first: its issue wins, ours is discarded.
        lost = [created[h] for h in firsts if h not in claimed_hashes]
        if lost:
            execute(f"DELETE FROM issues_issue WHERE id IN ({placeholders(len(lost))})", lost)
        new_issue_ids = {created[h] for h in claimed_hashes}
        known = _known_hashes(project_id, {h for e in events for h in e.hashes})
    issue_of: dict[str, int] = {}
    extra_hashes: dict[str, tuple[str, int]] = {}
    for event in events:
        issue_id = next(known[h] for h in event.hashes if h in known)
        issue_of[event.event_id] = issue_id
        for h in event.hashes:
            if h not in known:
                extra_hashes.setdefault(h, (event.config_id, issue_id))
    if extra_hashes:
        insert_rows(
            "issues_grouphash",
            ["project_id", "hash", "config", "issue_id"],
            sorted((project_id, h, cfg, iid) for h, (cfg, iid) in extra_hashes.items()),
            conflict=["project_id", "hash"],
        )
    return issue_of, new_issue_ids


def _create_issues(project_id: int, firsts: list[PreparedEvent]) -> dict[str, int]:
    (last,) = fetch(
        "UPDATE projects_project SET issue_counter = issue_counter + %s WHERE id = %s RETURNING issue_counter",
        [len(firsts), project_id],
    )[0]
    issues = [
        Issue(
            project_id=project_id,
            short_id=last - len(firsts) + 1 + n,
            title=e.title,
            culprit=e.culprit,
            type=e.type,
            level=e.level,
            platform=e.platform,
            metadata=e.metadata,
            first_seen=e.timestamp,
            last_seen=e.timestamp,
            first_release=e.release,
            last_release=e.release,
            grouping_config=e.config_id,
        )
        for n, e in enumerate(firsts)
    ]
    Issue.objects.bulk_create(issues)
    if any(i.pk is None for i in issues):  # backends without RETURNING on bulk insert
        by_short = dict(
            Issue.objects.filter(
                project_id=project_id, short_id__in=[i.short_id for i in issues]
            ).values_list("short_id", "id")
        )
        for issue in issues:
            issue.pk = by_short[issue.short_id]
    return {e.hashes[0]: issue.pk for e, issue in zip(firsts, issues, strict=True)}


def _insert_events(
    project_id: int, events: list[PreparedEvent], issue_of: dict[str, int]
) -> list[PreparedEvent]:
    columns = [
        "project_id", "issue_id", "event_id", "timestamp", "received", "level", "platform", "title",
        "release", "environment", "user_key", "trace_id", "primary_hash", "data",
    ]  # fmt: skip
    rows = [
        (
            project_id,
            issue_of[e.event_id],
            e.event_id,
            e.timestamp,
            e.received,
            e.level,
            e.platform,
            e.title,
            e.release,
            e.environment,
            e.user_key,
            e.trace_id,
            e.hashes[0],
            e.data,
        )
        for e in sorted(events, key=lambda e: e.event_id)
    ]
    types = ["int8", "int8", "varchar", "timestamptz", "timestamptz", *["varchar"] * 8, "bytea"]
    inserted = upsert(
        "issues_event", columns, types, rows, conflict=["project_id", "event_id"], returning=["event_id"]
    )
    inserted_ids = {row[0] for row in inserted}
    return [e for e in events if e.event_id in inserted_ids]


def _update_issues(
    project_id: int, by_issue: dict[int, list[PreparedEvent]], new_issue_ids: set[int]
) -> list[int]:
    ids = sorted(by_issue)
    if connection.features.has_select_for_update:
        # Lock every touched issue in id order up front, so two batches never wait on each other in a cycle.
        locked = fetch(
            f"SELECT id, status FROM issues_issue WHERE id IN ({placeholders(len(ids))}) ORDER BY id FOR UPDATE",
            ids,
        )
        # lifecycle.delete marked one after this batch read its hashes (SQLite cannot interleave:
        # its transactions take the write lock at their start).
        if any(status == Issue.Status.PENDING_DELETION for _, status in locked):
            raise IssueDeletedMeanwhile
    # Which releases the events name decides whether an issue resolved in a release regresses;
    # an issue this batch created is not resolved, and costs no query.
    old = [i for i in ids if i not in new_issue_ids]
    regressed = lifecycle.regress(project_id, {i: {e.release for e in by_issue[i]} for i in old})
    for issue_id in ids:
        events = by_issue[issue_id]
        latest = max(events, key=lambda e: e.timestamp)
        first = min(e.timestamp for e in events)
        execute(
            """
            UPDATE issues_issue SET
                times_seen = times_seen + %s,
                last_seen = CASE WHEN last_seen < %s THEN %s ELSE last_seen END,
                first_seen = CASE WHEN first_seen > %s THEN %s ELSE first_seen END,
                last_release = CASE WHEN last_seen <= %s AND %s <> '' THEN %s ELSE last_release END,
                first_release = CASE WHEN first_release = '' THEN %s ELSE first_release END,
                level = CASE WHEN last_seen <= %s THEN %s ELSE level END
            WHERE id = %s
            """,
            [
                len(events),
                latest.timestamp,
                latest.timestamp,
                first,
                first,
                latest.timestamp,
                latest.release,
                latest.release,
                latest.release,
                latest.timestamp,
                latest.level,
                issue_id,
            ],  # fmt: skip
        )
    return regressed


_USER_COLUMNS = ("ident", "email", "username", "ip_address")
# A user seen again fills the identifiers its row lacks (an email its first event did not send);
# the WHERE leaves every other conflicting row as it is: no new row version, no index entry
# (PostgreSQL still locks it; bench/bench_issue_users.py --no-fill measures no difference).
_FILL_USER = ", ".join(f"{c} = COALESCE(issues_issueuser.{c}, excluded.{c})" for c in _USER_COLUMNS)
_LACKS = " OR ".join(f"(issues_issueuser.{c} IS NULL AND excluded.{c} IS NOT NULL)" for c in _USER_COLUMNS)


def _inserted_test() -> str:
    """A RETURNING expression true for the rows the upsert inserted, false for those it filled."""
    if connection.vendor == "postgresql":
        return "xmax = 0"
    # SQLite: the batch's immediate transaction is the only writer, and AUTOINCREMENT ids only
    # grow, so the inserted rows are those above the highest id before the statement.
    ((highest,),) = fetch("SELECT COALESCE(MAX(id), 0) FROM issues_issueuser")
    return f"id > {int(highest)}"


def _upsert_users(by_issue: dict[int, list[PreparedEvent]]) -> None:
    users: dict[tuple[int, str], tuple] = {}
    for issue_id, events in by_issue.items():
        for event in events:
            if not event.user_key:
                continue
            known = users.setdefault((issue_id, event.user_key), event.user)
            if None in known and known is not event.user:  # the batch's first event lacked one
                users[issue_id, event.user_key] = tuple(
                    old if old is not None else new for old, new in zip(known, event.user, strict=True)
                )
    if not users:
        return
    rows = [(*pair, *users[pair]) for pair in sorted(users)]
    new = upsert(
        "issues_issueuser",
        ["issue_id", "user_key", *_USER_COLUMNS],
        ["int8", *["varchar"] * 5],
        rows,
        conflict=["issue_id", "user_key"],
        update_sql=f"{_FILL_USER} WHERE {_LACKS}",
        returning=["issue_id", _inserted_test()],
    )
    added: dict[int, int] = defaultdict(int)
    for issue_id, inserted in new:
        added[issue_id] += 1 if inserted else 0
    for issue_id in sorted(i for i in added if added[i]):
        execute(
            "UPDATE issues_issue SET user_count = user_count + %s WHERE id = %s", [added[issue_id], issue_id]
        )


def _upsert_tags(by_issue: dict[int, list[PreparedEvent]]) -> None:
    agg: dict[tuple[int, str, str], list] = {}
    for issue_id, events in by_issue.items():
        for event in events:
            for key, value in event.tags:
                entry = agg.get((issue_id, key, value))
                if entry is None:
                    agg[(issue_id, key, value)] = [1, event.timestamp, event.timestamp]
                else:
                    entry[0] += 1
                    entry[1] = min(entry[1], event.timestamp)
                    entry[2] = max(entry[2], event.timestamp)
    upsert(
        "issues_issuetag",
        ["issue_id", "key", "value", "times_seen", "first_seen", "last_seen"],
        ["int8", "varchar", "varchar", "int8", "timestamptz", "timestamptz"],
        [(*k, *agg[k]) for k in sorted(agg)],
        conflict=["issue_id", "key", "value"],
        update_sql=(
            "times_seen = issues_issuetag.times_seen + excluded.times_seen, "
            "first_seen = CASE WHEN excluded.first_seen < issues_issuetag.first_seen "
            "THEN excluded.first_seen ELSE issues_issuetag.first_seen END, "
            "last_seen = CASE WHEN excluded.last_seen > issues_issuetag.last_seen "
            "THEN excluded.last_seen ELSE issues_issuetag.last_seen END"
        ),
    )


def store_attachments(project_id: int, rows: list[tuple[str, str, str, str, bytes]]) -> None:
    """rows: (event_id, name, content_type, attachment_type, data); a redelivered one is skipped."""
    insert_rows(
        "issues_attachment",
        ["project_id", "event_id", "name", "content_type", "attachment_type", "size", "data", "created"],
        [
            (project_id, e, n, ct, at, len(d), d, _now())
            for e, n, ct, at, d in sorted(rows, key=lambda r: r[:2])
        ],
        conflict=["project_id", "event_id", "name"],
        chunk=20,
    )


def _now() -> datetime:
    from django.utils import timezone

    return timezone.now()
