"""Evaluating the outbox against the rules: fires and notifications, each created ON CONFLICT DO
NOTHING under a unique key, so a row processed twice (two workers, a retry after a crash) creates
nothing twice. The matching itself is alerts/rules.py (pure)."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from core.sql import fetch, insert_rows
from issues.buckets import (
    events_since,
    hour_of,
    hourly_counts,
    project_events_since,
    project_hourly_counts,
    users_since,
)
from issues.models import Issue
from releases.models import Release

from . import recipients, rules
from .models import AlertFire, AlertOutbox, AlertRule, Notification

log = logging.getLogger(__name__)
OUTBOX_BATCH = 200
OUTBOX_KEPT = timedelta(days=1)
# The alert history (fires, with their notifications) shown on the rules page.
HISTORY_KEPT = timedelta(days=90)


def process_outbox(limit: int = OUTBOX_BATCH, now: datetime | None = None) -> tuple[int, int]:
    """Evaluates up to `limit` outbox rows in one transaction: (rows, notifications created).
    A crash before the commit leaves the rows for the next run, which redoes the same work."""
    now = now or timezone.now()
    with transaction.atomic():
        pending = AlertOutbox.objects.filter(processed_at__isnull=True).order_by("id")
        if connection.features.has_select_for_update_skip_locked:
            pending = pending.select_for_update(skip_locked=True)
        rows = list(pending[:limit])
        if not rows:
            return 0, 0
        created = 0
        by_project: dict[int, list[AlertOutbox]] = defaultdict(list)
        for row in rows:
            by_project[row.project_id].append(row)
        for project_id, project_rows in sorted(by_project.items()):
            created += _evaluate_project(project_id, project_rows, now)
        AlertOutbox.objects.filter(pk__in=[r.pk for r in rows]).update(processed_at=now)
    return len(rows), created


def prune_outbox(now: datetime | None = None) -> int:
    """Processed outbox rows after a day, alert history after HISTORY_KEPT (summary notifications,
    which belong to no fire, with it)."""
    now = now or timezone.now()
    deleted, _ = AlertOutbox.objects.filter(processed_at__lt=now - OUTBOX_KEPT).delete()
    fires, _ = AlertFire.objects.filter(created__lt=now - HISTORY_KEPT).delete()
    summaries, _ = Notification.objects.filter(fire=None, created__lt=now - HISTORY_KEPT).delete()
    return deleted + fires + summaries


def _evaluate_project(project_id: int, rows: list[AlertOutbox], now: datetime) -> int:
    rule_list = list(AlertRule.objects.filter(project_id=project_id, enabled=True).order_by("id"))
    if not rule_list:
        return 0
    issues = (
        Issue.objects.select_related("project__organization")
        .prefetch_related("project__teams")
        .in_bulk([r.issue_id for r in rows])
    )
    counts = _window_counts(project_id, rule_list, [r.issue_id for r in rows if r.events], now)
    latest = _latest_release(project_id, rule_list)
    cap = _HourlyCap(project_id, now)
    created = 0
    for row in rows:
        issue = issues.get(row.issue_id)
        if issue is None:  # deleted since
            continue
        facts = _issue_facts(issue, row, latest)
        for rule in rule_list:
            created += _apply_rule(rule, issue, row, facts, counts.get(issue.pk, {}), now, cap)
    return created


class _HourlyCap:
    """The flood guard's count of this project's alerts in the current clock hour: one query per
    project and pass, then counted along. Concurrent workers may pass the cap by a few."""

    def __init__(self, project_id: int, now: datetime) -> None:
        self.project_id, self.now = project_id, now
        self.sent: int | None = None

    def take(self) -> bool:
        """True when one more alert may go out (and counts it); False when it must be held."""
        cap = settings.ALERTS["MAX_PER_PROJECT_PER_HOUR"]
        if not cap:
            return True
        if self.sent is None:
            since = hour_of(self.now)
            self.sent = AlertFire.objects.filter(
                project_id=self.project_id, held=False, created__gte=since
            ).count()
        if self.sent >= cap:
            return False
        self.sent += 1
        return True


def _apply_rule(
    rule: AlertRule, issue: Issue, row: AlertOutbox, facts, counts, now: datetime, cap: _HourlyCap
) -> int:
    if rule.environment and facts.environment != rule.environment:
        return 0
    conditions = rule.conditions if row.events else [
        c for c in rule.conditions if c.get("id") not in rules.COUNTING
    ]  # fmt: skip
    baselines = _baselines(issue, conditions, counts, now)
    matches = rules.triggered(conditions, facts, counts, baselines)
    if not matches or not rules.filters_pass(rule.filters, rule.filter_match, facts, now):
        return 0
    fire = _fire(rule, issue, row, matches[0], now, cap)
    if fire is None:
        return 0
    if fire.held:
        return recipients.summary_notifications(fire, now)
    return recipients.notify(fire, rule, issue, now)


def _latest_release(project_id: int, rule_list: list[AlertRule]) -> str | None:
    """The project's latest release by creation order (Sentry's dateCreated, as "latest" in a
    resolution), when a rule filters on it: one query per project and pass."""
    if not any(f.get("id") == rules.LATEST_RELEASE_FILTER for r in rule_list for f in r.filters):
        return None
    found = Release.objects.filter(projects=project_id).order_by("-date_added", "-pk").first()
    return found.version if found else ""


def _issue_facts(issue: Issue, row: AlertOutbox, latest_release: str | None) -> rules.IssueFacts:
    facts = row.facts or {}
    return rules.IssueFacts(
        level=facts.get("level") or issue.level,
        environment=facts.get("environment", ""),
        release=facts.get("release") or issue.last_release,
        tags=[(str(k), str(v)) for k, v in facts.get("tags", [])],
        first_seen=issue.first_seen,
        assigned=issue.assignee_user_id is not None or issue.assignee_team_id is not None,
        is_new=row.is_new,
        is_regression=row.is_regression,
        is_reappeared=row.is_reappeared,
        issue_type=issue.type,
        first_release=issue.first_release,
        latest_release=latest_release,
    )


def _window_counts(project_id: int, rule_list: list[AlertRule], issue_ids: list[int], now: datetime) -> dict:
    """Per issue, the counts every counting condition of the project's rules needs: one query per
    distinct window, from the time buckets (never a COUNT over events). A project window is counted
    once and given to the issue with the most events in it only, so a project spike fires once."""
    needed: set[rules.Window] = set()
    for rule in rule_list:
        needed |= rules.windows(rule.conditions)
    counts: dict[int, dict[rules.Window, int]] = defaultdict(dict)
    for window in sorted(needed, key=lambda w: (w.kind, w.span)):
        since = now - window.span
        if window.kind == "project":
            if issue_ids:
                top = max(issue_ids, key=lambda i: counts[i].get(rules.Window("events", window.span), 0))
                counts[top][window] = project_events_since(project_id, since)
            continue
        found = users_since(issue_ids, since) if window.kind == "users" else events_since(issue_ids, since)
        for issue_id, n in found.items():
            counts[issue_id][window] = n
    return counts


def _baselines(issue: Issue, conditions: list[dict], counts, now: datetime) -> dict[rules.Window, float]:
    windows = set()
    for cond in conditions:
        if cond.get("id") in (rules.SPIKE, rules.PROJECT_SPIKE):
            kind = "project" if cond["id"] == rules.PROJECT_SPIKE else "events"
            window = rules.Window(kind, rules.INTERVALS[cond.get("interval", "1h")])
            # Only a window that reached its floor can spike: skip the baseline query otherwise.
            if counts.get(window, 0) >= int(cond.get("floor", 10)):
                windows.add(window)
    result = {}
    for window in windows:
        hours = rules.baseline_hours(now, window.span)
        if window.kind == "project":
            hour_counts = project_hourly_counts(issue.project_id, hours)
        else:
            hour_counts = hourly_counts(issue.pk, hours)
        result[window] = rules.baseline_from(hour_counts, now, window.span)
    return result


def _fire(
    rule: AlertRule, issue: Issue, row: AlertOutbox, match: rules.Match, now: datetime, cap: _HourlyCap
):
    """The fire row for this trigger occurrence, or None when it exists already or the action
    interval holds a counting trigger back."""
    if match.trigger in ("regression", "reappeared"):
        occurrence = f"{match.trigger}:{row.pk}"  # every one is its own occurrence
    elif match.trigger == "new":
        occurrence = "new"
    elif match.trigger == "project_spike":
        if not _claim_project_interval(rule, now):
            return None
        occurrence = f"project_spike:{now.strftime('%Y%m%dT%H%M%S%f')}"
    else:
        if not _claim_interval(rule, issue, now):
            return None
        occurrence = f"{match.trigger}:{now.strftime('%Y%m%dT%H%M%S%f')}"
    held = not cap.take()
    inserted = insert_rows(
        "alerts_alertfire",
        ["project_id", "rule_id", "issue_id", "occurrence", "trigger", "reason", "facts", "held", "created"],
        [(issue.project_id, rule.pk, issue.pk, occurrence, match.trigger, match.reason[:300],
          _json(row.facts), held, now)],
        conflict=["rule_id", "issue_id", "occurrence"],
        returning=["id"],
    )  # fmt: skip
    if not inserted:
        return None
    if match.trigger in ("new", "regression", "reappeared"):
        _touch_interval(rule, issue, now)
    return AlertFire.objects.select_related("rule").get(pk=inserted[0][0])


def _json(value) -> str:
    import json

    return json.dumps(value or {})


def _claim_interval(rule: AlertRule, issue: Issue, now: datetime) -> bool:
    """One conditional upsert: true for exactly one caller per action interval."""
    rows = fetch(
        "INSERT INTO alerts_ruleissuestate (rule_id, issue_id, last_fired) VALUES (%s, %s, %s) "
        "ON CONFLICT (rule_id, issue_id) DO UPDATE SET last_fired = excluded.last_fired "
        "WHERE alerts_ruleissuestate.last_fired <= %s RETURNING rule_id",
        [rule.pk, issue.pk, now, now - timedelta(minutes=rule.frequency)],
    )
    return bool(rows)


def _claim_project_interval(rule: AlertRule, now: datetime) -> bool:
    """The rule-wide action interval of a project trigger: one conditional UPDATE, true for exactly
    one caller per interval."""
    since = now - timedelta(minutes=rule.frequency)
    due = Q(project_fired_at__isnull=True) | Q(project_fired_at__lte=since)
    return bool(AlertRule.objects.filter(due, pk=rule.pk).update(project_fired_at=now))


def _touch_interval(rule: AlertRule, issue: Issue, now: datetime) -> None:
    fetch(
        "INSERT INTO alerts_ruleissuestate (rule_id, issue_id, last_fired) VALUES (%s, %s, %s) "
        "ON CONFLICT (rule_id, issue_id) DO UPDATE SET last_fired = excluded.last_fired RETURNING rule_id",
        [rule.pk, issue.pk, now],
    )
