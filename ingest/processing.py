"""Worker side of ingest: turn buffered envelopes into stored events, a batch at a time."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import orjson
from django.conf import settings
from django.db import DatabaseError

from feedback.records import PreparedReport
from issues.dictionaries import current_dictionary
from issues.eventinfo import (
    compute_culprit,
    compute_metadata,
    compute_tags,
    compute_title,
    user_identifiers,
    user_identity,
)
from issues.grouping import GroupingMemo, compute_grouping
from issues.payload import encode_event_data
from issues.rules_budget import rules_budget, suspend_rules
from issues.store import PreparedEvent
from logs.records import StoredLog
from sourcemaps.process import resolve_source_maps

from .feedback_items import prepare_feedback, prepare_user_report
from .log_items import prepare_logs
from .project_config import ProjectConfig, forget_project_config, get_project_config
from .protocol.client_reports import client_report_discards
from .protocol.decompress import decompress
from .protocol.envelope import Item, parse_envelope
from .protocol.meta import restore_error_values
from .protocol.normalize import normalize_event
from .protocol.scrub import scrub_event
from .record import RecordHeader, decode_record

log = logging.getLogger(__name__)
# Per worker process: events shaped like earlier ones skip most of grouping (issues/grouping/memo.py).
_grouping_memo = GroupingMemo()


@dataclass
class PreparedAttachment:
    event_id: str
    name: str
    content_type: str
    attachment_type: str
    data: bytes


@dataclass
class ProjectBatch:
    organization_id: int = 0
    has_first_event: bool = True
    events: list[PreparedEvent] = field(default_factory=list)
    attachments: list[PreparedAttachment] = field(default_factory=list)
    logs: list[StoredLog] = field(default_factory=list)
    reports: list[PreparedReport] = field(default_factory=list)
    # Per buffered record (its id, None for records from before ids): outcomes the event writer
    # cannot deduplicate, {(category, outcome, reason): quantity}: client discards, attachments.
    record_facts: list[tuple[str | None, Counter]] = field(default_factory=list)


def prepare_entries(payloads: list[bytes]) -> dict[int, ProjectBatch]:
    """Decode every buffered envelope; a poisoned one is logged (never its content) and skipped."""
    batches: dict[int, ProjectBatch] = defaultdict(ProjectBatch)
    for payload in payloads:
        try:
            header, body = decode_record(payload)
            config = get_project_config(header.project_id)
            if config is None:
                continue  # project deleted since the envelope was accepted
            batch = batches[header.project_id]
            batch.organization_id = config.organization_id
            batch.has_first_event = config.has_first_event
            _prepare_envelope(header, body, config, batch)
        except DatabaseError:
            raise  # an outage, not a poisoned envelope: leave the batch in the buffer
        except Exception as exc:
            log.warning("dropped an unprocessable buffered envelope: %s", type(exc).__name__, exc_info=True)
    return batches


def _prepare_envelope(header: RecordHeader, body: bytes, config: ProjectConfig, batch: ProjectBatch) -> None:
    body = decompress(body, header.content_encoding, settings.INGEST["MAX_ENVELOPE_BYTES"])
    envelope = parse_envelope(body)
    facts: Counter = Counter()
    for number, item in enumerate(envelope.items):
        kind = item.headers.get("type")
        if kind == "event":
            batch.events.append(prepare_event(orjson.loads(item.payload), header, config))
        elif kind == "attachment" and header.event_id:
            batch.attachments.append(_prepare_attachment(item, header.event_id))
            facts["attachment", "accepted", ""] += 1
        elif kind == "client_report":
            for (category, reason), quantity in client_report_discards(orjson.loads(item.payload)).items():
                facts[category, "client_discard", reason] += quantity
        elif kind in ("log", "otel_log"):
            batch.logs += prepare_logs(orjson.loads(item.payload), header, config, number, len(item.payload))
        elif kind in ("user_report", "user_feedback", "feedback"):
            _add_report(batch, kind, item, header, config)
        # Every other item type is accepted and dropped for now (README, "What is stored").
    if facts:
        batch.record_facts.append((header.record_id, facts))


def _add_report(
    batch: ProjectBatch, kind: str, item: Item, header: RecordHeader, config: ProjectConfig
) -> None:
    prepare = prepare_feedback if kind == "feedback" else prepare_user_report
    report = prepare(orjson.loads(item.payload), header, config)
    if report is not None:
        batch.reports.append(report)


def prepare_event(raw: dict, header: RecordHeader, config: ProjectConfig) -> PreparedEvent:
    event = normalize_event(
        raw, event_id=header.event_id, received=header.received, client_ip=header.client_ip
    )
    # Original frames before anything is derived: issues group on the code as written, and the
    # scrubber sees the source lines that mapping adds.
    resolve_source_maps(event, config.project_id)
    # Scrub first: title, culprit, tags and the stored payload are all derived from the scrubbed event.
    scrub_event(event, config.scrub)
    # The scrubber drops every original value in _meta; the errors hold the scrubbed copies.
    restore_error_values(event)
    grouping = _group(event, config, config.grouping_config)
    if grouping.rules_over_budget:
        config = _without_rules(config, event["event_id"])
    hashes = list(grouping.hashes)
    if config.secondary_grouping_config:
        # Transition window: old-config hashes keep the event in the issues the old config made.
        old = _group(event, config, config.secondary_grouping_config)
        hashes += [h for h in old.hashes if h not in hashes]
    metadata = compute_metadata(event)
    title = _clip(grouping.title or compute_title(event, metadata), 255)
    culprit = _clip(compute_culprit(event), 200)
    tags = [(_clip(k, 200), _clip(v, 200)) for k, v in compute_tags(event)]
    # Like Sentry, the stored event's tags include the derived ones (level, release, user, ...).
    # Only the config and the hashes are stored: the issue page recomputes the component tree (the
    # config is versioned), which keeps ~10% of every payload and ~0.1 ms of worker CPU per event.
    stored_grouping = {"config_id": grouping.config_id, "hashes": hashes}
    event.update(title=title, culprit=culprit, tags=[list(t) for t in tags], _grouping=stored_grouping)
    trace = (event.get("contexts") or {}).get("trace") or {}
    return PreparedEvent(
        event_id=event["event_id"],
        timestamp=datetime.fromtimestamp(event["timestamp"], UTC),
        received=datetime.fromtimestamp(header.received, UTC),
        level=event.get("level") or "error",
        platform=_clip(event.get("platform") or "other", 64),
        type=event.get("type") or "default",
        title=title,
        culprit=culprit,
        metadata={k: _clip(v, 1024) if isinstance(v, str) else v for k, v in metadata.items()},
        release=_clip(event.get("release") or "", 200),
        environment=_clip(event.get("environment") or "", 64),
        user_key=user_identity(event),
        # Lowercase hex without dashes, as log records hold it (trace: searches compare the two).
        trace_id=_clip(str(trace.get("trace_id") or "").replace("-", "").lower(), 32),
        tags=tags,
        user=user_identifiers(event),
        hashes=hashes,
        config_id=grouping.config_id,
        data=encode_event_data(event, _dictionary(config.project_id)),
    )


def _dictionary(project_id: int):
    return current_dictionary(project_id) if settings.PAYLOAD_DICTIONARY["ENABLED"] else None


def _group(event: dict, config: ProjectConfig, config_id: str):
    return compute_grouping(
        event,
        config_id=config_id,
        fingerprint_rules=config.fingerprint_rules,
        enhancements=config.enhancements,
        memo=_grouping_memo,
        budget=rules_budget(),
    )


def _without_rules(config: ProjectConfig, event_id: str) -> ProjectConfig:
    """The project's rules used up the event's CPU budget: suspend them, for this worker at once
    (its next envelope of the project loads the settings again) and for the others within the
    config cache's 10 s."""
    suspend_rules(config.project_id, event_id)
    forget_project_config(config.project_id)
    return replace(config, fingerprint_rules=None, enhancements=None)


def _clip(value: str, limit: int) -> str:
    # PostgreSQL text cannot hold NUL; browsers can send it.
    return str(value).replace("\x00", "\ufffd")[:limit]


def _prepare_attachment(item: Item, event_id: str) -> PreparedAttachment:
    return PreparedAttachment(
        event_id=event_id,
        name=_clip(str(item.headers.get("filename") or "attachment"), 255),
        content_type=_clip(str(item.headers.get("content_type") or ""), 128),
        attachment_type=_clip(str(item.headers.get("attachment_type") or "event.attachment"), 64),
        data=item.payload,
    )
