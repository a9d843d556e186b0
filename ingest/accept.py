"""What the SDK endpoint does before it answers: authenticate, check limits and framing, enqueue.

Everything else (normalizing, scrubbing, grouping, storing) happens on the workers.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
from django.conf import settings

from usage.services import record_dropped

from .buffer import get_buffer
from .keys import KeyInfo, lookup_key
from .kick import kick_workers
from .protocol.auth import AuthInfo, auth_from_dsn, extract_auth
from .protocol.decompress import decode_store_body, decompress, decompress_prefix
from .protocol.envelope import (
    Envelope,
    Item,
    normalize_event_id,
    parse_envelope,
    serialize_envelope,
    split_valid_items,
)
from .protocol.errors import AuthError, BadRequest, PayloadTooLarge, ProtocolError
from .protocol.logs import container_records, record_problem
from .protocol.ratelimits import NEVER_LIMITED, RateLimit, category_quantities, item_category
from .quotas import consume
from .record import RecordHeader, encode_record

log = logging.getLogger(__name__)

EVENT_ITEM_TYPES = {"event", "transaction", "feedback"}


class Forbidden(ProtocolError):
    status = 403


@dataclass
class Accepted:
    event_id: str | None
    problems: list[str] = field(default_factory=list)
    rate_limits: list[RateLimit] = field(default_factory=list)


class RateLimited(ProtocolError):
    """Every item of the envelope ran into a quota or rate limit: 429 with the limits named."""

    status = 429

    def __init__(self, limits: list[RateLimit]) -> None:
        self.limits = limits
        names = ", ".join(sorted({f"{lim.category} ({lim.scope}: {lim.reason})" for lim in limits}))
        super().__init__(f"rate limited: {names}")


@dataclass
class IngestRequest:
    project_id: int
    headers: dict[str, str]
    query: dict[str, str]
    body: bytes
    content_encoding: str | None
    client_ip: str | None


def authenticate(
    auth: AuthInfo | None, project_id: int, lookup: Callable[[str], KeyInfo | None] = lookup_key
) -> KeyInfo:
    if auth is None:
        raise AuthError("missing authentication: send X-Sentry-Auth, Authorization or sentry_key")
    key = lookup(auth.public_key)
    if key is None:
        raise AuthError("unknown public key")
    if not key.is_active:
        raise Forbidden("project key is disabled")
    if key.project_id != project_id:
        raise Forbidden(f"public key does not belong to project {project_id}")
    return key


def accept_envelope(req: IngestRequest) -> Accepted:
    auth = extract_auth(req.headers, req.query)
    # Who is sending comes before any real work: from the headers or query, or else from the DSN in
    # the envelope's header line, read by inflating only the start of the body.
    key = authenticate(auth if auth is not None else _auth_from_header_line(req), req.project_id)
    body = decompress(req.body, req.content_encoding, settings.INGEST["MAX_ENVELOPE_BYTES"])
    envelope = parse_envelope(body)
    valid, problems = split_valid_items(envelope)
    valid, more = _check_items(valid)
    problems += more + _log_record_problems(valid)
    event_id = _event_id(envelope, valid)
    if not valid:
        return Accepted(event_id=event_id, problems=problems)
    quantities = category_quantities(item.headers for item in valid)
    if len(valid) == len(envelope.items):
        # The common case: count quotas and buffer the still-compressed body (~4x fewer bytes than
        # the JSON) in one atomic step; only when a limit is hit do we fall back to re-serializing.
        limits = consume(
            key, quantities, record=encode_record(_header(req, key, event_id, req.content_encoding), req.body)
        )
        if not limits:
            kick_workers()
            return Accepted(event_id=event_id, problems=problems)
        valid = _drop_limited(key, valid, limits, quantities)
    else:
        valid, limits = _apply_quotas(key, valid)
    payload = serialize_envelope(Envelope(headers=envelope.headers, items=valid))
    _enqueue(req, key, event_id, payload, None)
    return Accepted(event_id=event_id, problems=problems, rate_limits=limits)


ENVELOPE_HEADER_LIMIT = 64 * 1024


def _auth_from_header_line(req: IngestRequest) -> AuthInfo | None:
    cap = settings.INGEST["MAX_ENVELOPE_BYTES"]
    start = decompress_prefix(req.body, req.content_encoding, ENVELOPE_HEADER_LIMIT, cap)
    line = start.split(b"\n", 1)[0]
    try:
        header = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None  # a malformed envelope from an unknown sender: 401, not a parse error
    dsn = header.get("dsn") if isinstance(header, dict) else None
    return auth_from_dsn(dsn) if isinstance(dsn, str) else None


def accept_store(req: IngestRequest) -> Accepted:
    key = authenticate(extract_auth(req.headers, req.query), req.project_id)
    body = decode_store_body(req.body, settings.INGEST["MAX_EVENT_BYTES"])
    if req.content_encoding:
        body = decompress(body, req.content_encoding, settings.INGEST["MAX_EVENT_BYTES"])
    item = Item(headers={"type": "event"}, payload=body)
    valid, problems = split_valid_items(Envelope(headers={}, items=[item]))
    valid, more = _check_items(valid)
    if not valid:
        raise BadRequest("; ".join(problems + more) or "invalid event")
    event_id = _event_id(Envelope(headers={}, items=valid), valid)
    valid, _ = _apply_quotas(key, valid)
    payload = serialize_envelope(Envelope(headers={"event_id": event_id}, items=valid))
    _enqueue(req, key, event_id, payload, None)
    return Accepted(event_id=event_id)


def _apply_quotas(key: KeyInfo, items: list[Item]) -> tuple[list[Item], list[RateLimit]]:
    """Drops the items of categories over a limit; all of them limited means 429."""
    quantities = category_quantities(item.headers for item in items)
    limits = consume(key, quantities) if quantities else []
    if not limits:
        return items, []
    return _drop_limited(key, items, limits, quantities), limits


def _drop_limited(key: KeyInfo, items: list[Item], limits: list[RateLimit], quantities) -> list[Item]:
    limited = {limit.category for limit in limits}
    for category in limited:
        reason = next(lim.reason for lim in limits if lim.category == category)
        record_dropped(
            key.organization_id, key.project_id, category, "rate_limited", reason, quantities[category]
        )
    kept = [i for i in items if item_category(str(i.headers.get("type"))) not in limited]
    if not any(item_category(str(i.headers.get("type"))) not in NEVER_LIMITED for i in kept):
        raise RateLimited(limits)
    return kept


def _check_items(items: list[Item]) -> tuple[list[Item], list[str]]:
    """Refuse only what cannot be stored at all: items over their size cap.

    Event items already parsed to a JSON object (split_valid_items); values of the wrong type
    inside are the worker's to drop and record, like Relay, so the event is kept.
    """
    caps = settings.INGEST
    kept: list[Item] = []
    problems: list[str] = []
    for item in items:
        kind = item.headers.get("type")
        cap = caps["MAX_ATTACHMENT_BYTES"] if kind == "attachment" else caps["MAX_EVENT_BYTES"]
        if len(item.payload) > cap:
            problems.append(f"{kind} item: larger than {cap} bytes")
            continue
        kept.append(item)
    if problems and not kept and all("larger than" in p for p in problems):
        raise PayloadTooLarge("; ".join(problems))
    return kept, problems


def _log_record_problems(items: list[Item]) -> list[str]:
    """Log records that cannot be stored, named for the SDK's 400; the item stays, and the worker
    stores its valid records and skips these (malformed records never block the others)."""
    problems: list[str] = []
    for item in items:
        if item.headers.get("type") not in ("log", "otel_log"):
            continue
        records, item_problems = container_records(_parsed(item))
        problems += item_problems
        for number, raw in enumerate(records, 1):
            reason = record_problem(raw)
            if reason and len(problems) < 20:  # enough to explain, bounded for a hostile item
                problems.append(f"log item: record {number}: {reason}")
    return problems


def _parsed(item: Item) -> dict:
    # split_valid_items already parsed (and type-checked) JSON items; reuse that work.
    return item.parsed if isinstance(item.parsed, dict) else orjson.loads(item.payload)


def _event_id(envelope: Envelope, items: list[Item]) -> str | None:
    event_items = [i for i in items if i.headers.get("type") in EVENT_ITEM_TYPES]
    from_header = normalize_event_id(envelope.headers.get("event_id"))
    if from_header:
        return from_header
    if not event_items and not any(i.headers.get("type") == "attachment" for i in items):
        return None
    for item in event_items:
        from_payload = normalize_event_id(_parsed(item).get("event_id"))
        if from_payload:
            return from_payload
    return uuid.uuid4().hex


def _header(req: IngestRequest, key: KeyInfo, event_id: str | None, encoding: str | None) -> RecordHeader:
    return RecordHeader(
        project_id=req.project_id,
        key_id=key.key_id,
        received=time.time(),
        event_id=event_id,
        client_ip=req.client_ip,
        content_encoding=encoding,
    )


def _enqueue(
    req: IngestRequest, key: KeyInfo, event_id: str | None, payload: bytes, encoding: str | None
) -> None:
    get_buffer().put(encode_record(_header(req, key, event_id, encoding), payload))
    kick_workers()
